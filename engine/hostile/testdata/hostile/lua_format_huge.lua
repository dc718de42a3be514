-- about: string.format joining 200 copies of a 1 MB string
-- expect: memory
function handle(msg, ctx)
  local s = string.rep("x", 1000000)
  local t = {}
  for i = 1, 200 do t[i] = s end
  return string.format(string.rep("%s", 200), unpack(t))
end
