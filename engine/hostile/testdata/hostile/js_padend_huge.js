// about: padEnd to 2**40 characters
// expect: memory
function handle(msg, ctx) {
  return "x".padEnd(2 ** 40, "ab");
}
