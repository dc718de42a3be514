// about: J4: nothing stored in globals survives a run
// expect: ok 1
// runs: 3
var seen = globalThis.seen || (globalThis.seen = []);
function handle(m) {
  seen.push(m.body);
  return String(seen.length);
}
