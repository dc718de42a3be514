// about: new Array(2**32-1).join('ab') would build 8 GiB of text
// expect: memory
function handle(msg, ctx) {
  return new Array(2 ** 32 - 1).join("ab");
}
