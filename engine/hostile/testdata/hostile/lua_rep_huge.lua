-- about: string.rep('x', 2^40) would end the process
-- expect: memory
function handle(msg, ctx)
  return string.rep("x", 2^40)
end
