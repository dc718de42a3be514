// about: plain recursion stops at the call stack limit
// expect: limit
function handle(msg, ctx) {
  function f() { return f() + 1; }
  return f();
}
