-- Doubles the number in the message. Anything else raises an error, and
-- the number's fallback text is sent instead.
function handle(msg, ctx)
  local n = tonumber(msg.body)
  if not n then
    error("not a number: " .. msg.body)
  end
  return tostring(n * 2)
end
