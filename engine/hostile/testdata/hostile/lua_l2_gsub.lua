-- about: L2: a 20M string is over the value cap at the default limit
-- expect: memory
function handle(msg, ctx)
  local s = string.rep("a", 20000000)
  return (string.gsub(s, "a", "bb"))
end
