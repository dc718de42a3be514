// about: split into half a million pieces
// expect: memory
function handle(msg, ctx) {
  return String("x".repeat(5e5).split("").length);
}
