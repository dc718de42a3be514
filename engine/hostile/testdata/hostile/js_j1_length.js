// about: J1: length counts UTF-16 units
// expect: ok 5
// timeout: 300ms
// body: 😀 hi
function handle(msg, ctx) {
  return String(msg.body.length);
}
