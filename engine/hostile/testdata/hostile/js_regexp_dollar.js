// about: the same through a regular expression
// expect: memory
function handle(msg, ctx) {
  return "a".repeat(4000).replace(/a/g, "$'");
}
