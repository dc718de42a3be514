// about: toLocaleString of arrays nested 20000 deep
// expect: limit
function handle(msg, ctx) {
  let a = [];
  for (let i = 0; i < 20000; i++) a = [a];
  return a.toLocaleString();
}
