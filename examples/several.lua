-- Sends one message per line of the answer, plus a receipt to the sender.
function handle(msg, ctx)
  return {
    "Thanks! Your message had " .. utf8.len(msg.body) .. " characters.",
    { message = { body = "Opening hours: 9:00-18:00", from = ctx.number } },
    "Reply HELP for more.",
  }
end
