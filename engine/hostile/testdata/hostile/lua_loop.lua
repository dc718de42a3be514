-- about: a loop that never ends
-- expect: timeout
function handle(msg, ctx)
  while true do end
end
