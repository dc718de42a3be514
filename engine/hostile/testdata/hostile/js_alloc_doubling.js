// about: strings that grow and are all kept, until the watchdog stops them
// expect: memory
// timeout: 8000ms
// memory: 16MiB
function handle(msg, ctx) {
  let s = "x".repeat(1 << 16);
  const keep = [];
  for (;;) { s = s + s.slice(0, 1 << 16); keep.push(s); }
}
