// about: many slow matches, each under the per-match bound
// expect: timeout
function handle(msg, ctx) {
  const s = ("a".repeat(13) + "x").repeat(20000);
  return String(s.replace(/(a+)+(?=b)|x/g, "y").length);
}
