// about: J1: half a surrogate pair comes out as U+FFFD
// expect: ok �
// timeout: 300ms
// body: 😀 hi
function handle(msg, ctx) {
  return msg.body.slice(0, 1);
}
