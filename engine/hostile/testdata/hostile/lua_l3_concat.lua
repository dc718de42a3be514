-- about: L3: table.concat of 6000 elements
-- expect: ok 6000
function handle(msg, ctx)
  local t = {}
  for i = 1, 6000 do t[i] = "x" end
  return tostring(#table.concat(t))
end
