// about: JSON.stringify of a sparse array of 2**32-1 elements
// expect: memory
function handle(msg, ctx) {
  return JSON.stringify(new Array(2 ** 32 - 1));
}
