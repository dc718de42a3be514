// about: catastrophic backtracking inside match
// expect: timeout
function handle(msg, ctx) {
  return String("a".repeat(30).match(/^(a+)+(?=b)/));
}
