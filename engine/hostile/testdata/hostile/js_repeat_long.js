// about: a long repeat is refused by the cap before it runs past the deadline
// expect: memory
function handle(msg, ctx) {
  return "x".repeat(1e9);
}
