// about: indexOf over an array-like of length 2**53 would never return
// expect: memory
function handle(msg, ctx) {
  return String(Array.prototype.indexOf.call({ length: 2 ** 53 }, 1));
}
