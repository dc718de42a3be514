// about: the constructor reached through an instance is guarded too
// expect: memory
function handle(msg, ctx) {
  const C = new Uint8Array(1).constructor;
  return String(new C(2 ** 33).length);
}
