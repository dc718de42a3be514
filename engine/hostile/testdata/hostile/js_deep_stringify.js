// about: JSON.stringify of objects nested 20000 deep
// expect: limit
function handle(msg, ctx) {
  let a = {};
  for (let i = 0; i < 20000; i++) a = { a };
  return JSON.stringify(a);
}
