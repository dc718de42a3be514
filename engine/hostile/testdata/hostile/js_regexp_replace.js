// about: catastrophic backtracking inside replace
// expect: timeout
function handle(msg, ctx) {
  return "a".repeat(30).replace(/^(a+)+(?=b)/, "x");
}
