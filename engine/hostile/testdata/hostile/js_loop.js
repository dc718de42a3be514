// about: J3: a loop that never ends
// expect: timeout
function handle(msg, ctx) {
  for (;;) {}
}
