// about: split into half a million pieces
// timeout: 2s
// expect: memory
function handle(msg, ctx) {
  return String("x".repeat(5e5).split("").length);
}
