// about: the stop cannot be caught
// expect: timeout
function handle(msg, ctx) {
  try { /^(a+)+(?=b)/.exec("a".repeat(30)); } catch (e) {}
  return "survived";
}
