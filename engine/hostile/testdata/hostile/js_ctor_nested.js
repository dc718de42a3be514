// about: the Function constructor reached through a function
// expect: limit
function handle(msg, ctx) {
  return (function () {}).constructor("(".repeat(3000))();
}
