-- about: a reply over the CPaaS limits is a script error
-- expect: reply
function handle(msg, ctx)
  return string.rep("x", 100000)
end
