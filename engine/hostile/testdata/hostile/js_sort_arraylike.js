// about: sort of an array-like allocates its length up front
// expect: memory
function handle(msg, ctx) {
  return String(Array.prototype.sort.call({ length: 2 ** 32 - 2 }));
}
