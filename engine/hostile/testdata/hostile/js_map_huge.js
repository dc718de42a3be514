// about: map allocates length-sized storage up front
// expect: memory
function handle(msg, ctx) {
  return String(new Array(2 ** 31).map((x) => x).length);
}
