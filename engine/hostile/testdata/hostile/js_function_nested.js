// about: new Function with a body nested 3000 deep
// expect: limit
function handle(msg, ctx) {
  return new Function("return " + "[".repeat(3000) + "]".repeat(3000))();
}
