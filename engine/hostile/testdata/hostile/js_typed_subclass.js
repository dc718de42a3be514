// about: a subclass of Uint8Array asks its base for 2**33 elements
// expect: memory
function handle(msg, ctx) {
  class Big extends Uint8Array { constructor() { super(2 ** 33); } }
  return String(new Big().length);
}
