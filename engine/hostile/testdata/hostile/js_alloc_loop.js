// about: an array that grows until the watchdog stops it
// expect: memory
// timeout: 8000ms
// memory: 16MiB
function handle(msg, ctx) {
  const a = [];
  for (;;) a.push("x".repeat(512) + a.length);
}
