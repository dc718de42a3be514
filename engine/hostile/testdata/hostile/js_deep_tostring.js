// about: String(a) with arrays nested 20000 deep recurses in Go
// expect: limit
function handle(msg, ctx) {
  let a = [];
  for (let i = 0; i < 20000; i++) a = [a];
  return String(a);
}
