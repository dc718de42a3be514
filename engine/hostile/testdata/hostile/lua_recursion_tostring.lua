-- about: recursion through __tostring
-- expect: limit
function handle(msg, ctx)
  local t = setmetatable({}, {})
  getmetatable(t).__tostring = function(x) return tostring(x) end
  return tostring(t)
end
