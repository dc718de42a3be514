-- about: a table that grows until the watchdog stops it
-- expect: memory
-- timeout: 8000ms
-- memory: 16MiB
function handle(msg, ctx)
  local t = {}
  local i = 0
  while true do i = i + 1; t[i] = string.rep("x", 512) .. i end
end
