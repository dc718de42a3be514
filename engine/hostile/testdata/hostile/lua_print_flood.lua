-- about: print output is capped per run
-- expect: ok done
-- timeout: 2000ms
-- log: script output truncated
function handle(msg, ctx)
  for i = 1, 100000 do print(string.rep("x", 100), i) end
  return "done"
end
