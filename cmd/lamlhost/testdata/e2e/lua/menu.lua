return function(msg, ctx)
  print("from", msg.params.FromCity)
  return {message = {body = ctx.vars.greeting .. " " .. msg.body .. " & " .. ctx.number,
    to = msg.from}}
end
