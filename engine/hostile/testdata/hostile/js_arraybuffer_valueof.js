// about: a length that answers small to one read and huge to the next is read once
// expect: ok 8
function handle(msg, ctx) {
  let n = 0;
  const len = { valueOf() { return n++ ? 2 ** 40 : 8; } };
  return String(new ArrayBuffer(len).byteLength);
}
