// about: new Array(2**31).fill(0)
// expect: memory
function handle(msg, ctx) {
  return String(new Array(2 ** 31).fill(0).length);
}
