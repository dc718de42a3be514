// about: a rejected promise is a script error
// expect: runtime
async function handle(m) {
  await null;
  throw new Error("rejected on purpose");
}
