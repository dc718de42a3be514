// about: Array.from an array-like of 2**32-1 elements
// expect: memory
function handle(msg, ctx) {
  return String(Array.from({ length: 2 ** 32 - 1 }).length);
}
