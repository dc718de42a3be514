// about: a typed array copied from an array-like of 2**40 elements
// expect: memory
function handle(msg, ctx) {
  return String(new Float64Array({ length: 2 ** 40 }).length);
}
