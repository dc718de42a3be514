-- A healthy script: it must answer normally right after every hostile one.
function handle(msg, ctx)
  local word = string.match("ok " .. msg.body, "^(%a+)")
  return { message = word }
end
