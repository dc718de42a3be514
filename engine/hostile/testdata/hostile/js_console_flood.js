// about: console output is capped per run
// expect: ok done
// timeout: 5000ms
// log: script output truncated
function handle(msg, ctx) {
  for (let i = 0; i < 100000; i++) console.log("x".repeat(100), i);
  return "done";
}
