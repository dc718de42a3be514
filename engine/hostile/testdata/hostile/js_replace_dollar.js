// about: $' in a replacement copies the rest of the subject for every match
// expect: memory
function handle(msg, ctx) {
  return "a".repeat(5e4).replaceAll("a", "$'");
}
