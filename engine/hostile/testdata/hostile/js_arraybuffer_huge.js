// about: new ArrayBuffer(2**40)
// expect: memory
function handle(msg, ctx) {
  return String(new ArrayBuffer(2 ** 40).byteLength);
}
