// about: new Uint8Array(2**33)
// expect: memory
function handle(msg, ctx) {
  return String(new Uint8Array(2 ** 33).length);
}
