-- about: L3: unpack of 6000 elements grows the registry within its cap
-- expect: ok 6000
function handle(msg, ctx)
  local t = {}
  for i = 1, 6000 do t[i] = i end
  return tostring(select("#", unpack(t)))
end
