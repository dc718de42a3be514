// about: sort without a comparison function compares as text
// expect: ok 1,10,2
// timeout: 2000ms
function handle(msg, ctx) {
  return [2, 10, 1].sort().join();
}
