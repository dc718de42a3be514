-- about: plain recursion stops at the default call stack
-- expect: limit
function handle(msg, ctx)
  local function f() return 1 + f() end
  return f()
end
