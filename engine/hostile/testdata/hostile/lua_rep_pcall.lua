-- about: catching the refusal does not let the run go on
-- expect: memory
function handle(msg, ctx)
  pcall(string.rep, "x", 2^40)
  return "survived"
end
