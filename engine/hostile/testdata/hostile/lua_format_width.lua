-- about: Lua 5.1 refuses widths of more than two digits
-- expect: runtime
function handle(msg, ctx)
  return string.format("%99999d", 1)
end
