-- about: string.byte of 4M bytes overflows the registry cleanly
-- expect: limit
-- memory: 256MiB
function handle(msg, ctx)
  return select("#", string.byte(string.rep("x", 4000000), 1, -1))
end
