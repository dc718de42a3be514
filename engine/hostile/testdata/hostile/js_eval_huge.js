// about: eval of 300 KiB of source
// expect: limit
function handle(msg, ctx) {
  return eval("1;".repeat(150000));
}
