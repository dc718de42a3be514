// about: eval of source nested 3000 deep
// expect: limit
function handle(msg, ctx) {
  return eval("(".repeat(3000) + "1" + ")".repeat(3000));
}
