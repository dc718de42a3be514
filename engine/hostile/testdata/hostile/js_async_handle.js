// about: an async handle settles before the reply is read
// expect: ok async ok
async function step(x) { return x + " ok"; }
async function handle(m) {
  const a = await step("async");
  await Promise.all([step("b"), step("c")]);
  return a;
}
