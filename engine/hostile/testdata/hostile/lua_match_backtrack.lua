-- about: the same with string.match
-- expect: timeout
function handle(msg, ctx)
  return string.match(string.rep("a", 400), "(.-)(.-)(.-)b")
end
