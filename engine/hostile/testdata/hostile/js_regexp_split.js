// about: catastrophic backtracking inside split
// expect: timeout
function handle(msg, ctx) {
  return String("a".repeat(30).split(/(a+)+(?=b)/).length);
}
