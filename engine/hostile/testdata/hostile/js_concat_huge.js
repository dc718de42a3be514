// about: String.prototype.concat of a thousand copies of a 500K string
// expect: memory
function handle(msg, ctx) {
  const s = "x".repeat(5e5);
  return "".concat(...Array(1000).fill(s));
}
