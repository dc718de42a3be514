-- about: the pattern functions behave as in Lua 5.1
-- expect: ok 5,7|key=val|hell0 w0rld 2|-h-e-l-l-o-|a1;b2|W (W) W|2,8|trim|1bc|3,5
function handle(msg, ctx)
  local out = {}
  out[#out + 1] = table.concat({string.find("hello world", "o w")}, ",")
  out[#out + 1] = table.concat({string.match("key=val", "(%w+)=(%w+)")}, "=")
  out[#out + 1] = table.concat({string.gsub("hello world", "o", "0")}, " ")
  out[#out + 1] = (string.gsub("hello", "", "-"))
  local r = {}
  for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do r[#r + 1] = k .. v end
  out[#out + 1] = table.concat(r, ";")
  out[#out + 1] = (string.gsub("THE (quick) fox", "%f[%a]%a+", "W"))
  out[#out + 1] = table.concat({string.find("x(a(b)c)y", "%b()")}, ",")
  out[#out + 1] = string.match("  trim  ", "^%s*(.-)%s*$")
  out[#out + 1] = (string.gsub("abc", "%w", {a = 1}))
  out[#out + 1] = table.concat({string.match("hello", "()ll()")}, ",")
  return table.concat(out, "|")
end
