-- about: the same with string.gmatch
-- expect: timeout
function handle(msg, ctx)
  for w in string.gmatch(string.rep("a", 400), ".-.-.-b") do end
  return "done"
end
