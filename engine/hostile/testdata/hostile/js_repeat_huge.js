// about: 'x'.repeat(2**40) would end the process with a fatal out of memory
// expect: memory
function handle(msg, ctx) {
  return "x".repeat(2 ** 40);
}
