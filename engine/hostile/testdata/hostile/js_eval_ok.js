// about: eval and new Function still work on ordinary code
// expect: ok 42
function handle(msg, ctx) {
  return String(eval("6 * 7") + new Function("a", "return a * 0")(1));
}
