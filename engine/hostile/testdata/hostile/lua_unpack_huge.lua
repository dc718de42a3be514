-- about: unpack of 2^31 values overflows the registry cleanly
-- expect: limit
function handle(msg, ctx)
  return select("#", unpack({}, 1, 2^31))
end
