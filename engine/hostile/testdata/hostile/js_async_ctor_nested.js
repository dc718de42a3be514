// about: the async function constructor
// expect: limit
function handle(msg, ctx) {
  const A = Object.getPrototypeOf(async function () {}).constructor;
  return A("(".repeat(3000));
}
