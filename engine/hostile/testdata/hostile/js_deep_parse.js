// about: JSON.parse of text nested 20000 deep
// expect: limit
function handle(msg, ctx) {
  return JSON.parse("[".repeat(2e4) + "]".repeat(2e4));
}
