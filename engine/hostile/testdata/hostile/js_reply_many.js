// about: a reply over 64 KiB
// expect: reply
function handle(msg, ctx) {
  return Array(60).fill({ message: "y".repeat(1600) });
}
