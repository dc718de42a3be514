-- about: recursion through an __index function
-- expect: limit
function handle(msg, ctx)
  local t = setmetatable({}, {__index = function(t, k) return t[k] end})
  return t.x
end
