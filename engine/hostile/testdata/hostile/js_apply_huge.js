// about: apply copies an argument list of 2**32-1 elements
// expect: memory
function handle(msg, ctx) {
  return String(Math.max.apply(null, { length: 2 ** 32 - 1 }));
}
