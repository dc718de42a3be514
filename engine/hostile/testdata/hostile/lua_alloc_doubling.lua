-- about: strings that grow and are all kept, until the watchdog stops them
-- expect: memory
-- timeout: 8000ms
-- memory: 16MiB
function handle(msg, ctx)
  local s = string.rep("x", 1048576)
  local keep = {}
  while true do s = s .. string.sub(s, 1, 1048576); keep[#keep + 1] = s end
end
