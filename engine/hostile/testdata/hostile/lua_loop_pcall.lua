-- about: a loop inside pcall inside a loop
-- expect: timeout
function handle(msg, ctx)
  while true do pcall(function() while true do end end) end
end
