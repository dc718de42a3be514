// about: the generator function constructor
// expect: limit
function handle(msg, ctx) {
  return (function* () {}).constructor("(".repeat(3000));
}
