// about: recursion through toString
// expect: limit
function handle(msg, ctx) {
  const o = { toString() { return String(o); } };
  return String(o);
}
