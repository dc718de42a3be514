-- about: L2: string.rep('x', 2^31)
-- expect: memory
function handle(msg, ctx)
  return string.rep("x", 2^31)
end
