-- about: the same with string.gsub
-- expect: timeout
function handle(msg, ctx)
  return (string.gsub(string.rep("a", 400), ".-.-.-b", "x"))
end
