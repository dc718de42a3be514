// about: J4: nor anything added to a prototype
// expect: ok 1
// runs: 3
function handle(m) {
  if (Array.prototype.sneaky) return "polluted";
  Array.prototype.sneaky = function () { return 1; };
  String.prototype.trim = function () { return "hijacked"; };
  Object.prototype.leak = "from an earlier run";
  return String([].sneaky());
}
