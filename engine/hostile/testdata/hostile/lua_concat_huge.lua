-- about: table.concat of 1000 copies of a 1 MB string
-- expect: memory
function handle(msg, ctx)
  local s = string.rep("x", 1000000)
  local t = {}
  for i = 1, 1000 do t[i] = s end
  return table.concat(t)
end
