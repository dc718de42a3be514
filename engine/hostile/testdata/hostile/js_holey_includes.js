// about: includes over a holey array of 2**32-1
// expect: memory
function handle(msg, ctx) {
  return String(new Array(2 ** 32 - 1).includes(1));
}
