// about: likewise a proxy
// expect: runtime
function handle(msg, ctx) {
  const p = new Proxy({ length: 1 }, {});
  return String(Array.prototype.fill.call(p, 0).length);
}
