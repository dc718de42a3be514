-- about: a pattern of 300 optional items is too complex
-- expect: runtime
function handle(msg, ctx)
  return string.find(string.rep("a", 300), string.rep("a?", 300) .. "b")
end
