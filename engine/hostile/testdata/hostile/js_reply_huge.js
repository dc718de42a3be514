// about: a reply over the CPaaS limits is a script error
// expect: reply
function handle(msg, ctx) {
  return "x".repeat(100000);
}
