// about: catastrophic backtracking in regexp2 must not read as no match
// expect: timeout
function handle(msg, ctx) {
  return String(/^(a+)+(?=b)/.test("a".repeat(30)));
}
