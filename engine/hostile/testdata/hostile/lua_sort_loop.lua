-- about: a comparison function that never returns
-- expect: timeout
function handle(msg, ctx)
  local t = {3, 2, 1}
  table.sort(t, function(a, b) while true do end end)
  return "sorted"
end
