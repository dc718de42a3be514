// about: an async handle that awaits forever in a loop
// expect: timeout
async function handle(msg, ctx) {
  for (;;) await null;
}
