// about: recursion through a built-in's callback
// expect: limit
function handle(msg, ctx) {
  function f() { return [1].map(f); }
  return f();
}
