// about: flat(Infinity) of arrays nested 20000 deep
// expect: limit
function handle(msg, ctx) {
  let a = [1];
  for (let i = 0; i < 20000; i++) a = [a];
  return String(a.flat(Infinity).length);
}
