// about: a length computed by a getter could answer the check and the built-in differently
// expect: runtime
function handle(msg, ctx) {
  let n = 0;
  const o = { get length() { return n++ ? 2 ** 40 : 1; } };
  return String(Array.prototype.map.call(o, (x) => x).length);
}
