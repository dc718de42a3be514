-- Answers with three messages at once; the second names our number as
-- its sender.
function handle(msg, ctx)
  return {
    "Thanks! Your message had " .. utf8.len(msg.body) .. " characters.",
    { message = { body = "Opening hours: 9:00-18:00", from = ctx.number } },
    "Reply HELP for more.",
  }
end
