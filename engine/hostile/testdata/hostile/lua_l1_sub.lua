-- about: L1: #body is 3 bytes; half a character still makes valid UTF-8
-- expect: ok �1
-- timeout: 300ms
-- body: £1
function handle(msg, ctx)
  assert(#msg.body == 3)
  return string.sub(msg.body, 2)
end
