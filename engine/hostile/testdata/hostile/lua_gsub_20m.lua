-- about: gsub over 20M characters stops at the deadline
-- expect: timeout
-- memory: 1GiB
function handle(msg, ctx)
  local s = string.rep("a", 20000000)
  return (string.gsub(s, "a", "bb"))
end
