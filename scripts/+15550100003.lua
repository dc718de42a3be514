-- Keyword menu: the first word of the message picks the answer.
local menu = {
  HOURS = "We are open 9:00-18:00, Monday to Saturday.",
  WHERE = "1 Example Street, Springfield.",
  STOP  = nil, -- the CPaaS handles STOP itself; send nothing
}

function handle(msg, ctx)
  local word = string.upper(string.match(msg.body, "^%s*(%a+)") or "")
  if word == "STOP" then
    return nil
  end
  local answer = menu[word]
  if answer then
    return answer
  end
  return "Reply HOURS or WHERE. You wrote: " .. msg.body
end
