// about: padStart to 2**40 characters
// expect: memory
function handle(msg, ctx) {
  return "x".padStart(2 ** 40);
}
