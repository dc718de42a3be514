-- about: recursion through gsub
-- expect: limit
function handle(msg, ctx)
  local function f(s) return (string.gsub(s, ".", f)) end
  return f("ab")
end
