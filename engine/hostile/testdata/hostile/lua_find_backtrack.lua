-- about: string.find(string.rep('a',400), '.-.-.-b') backtracks for 25 s in gopher-lua
-- expect: timeout
function handle(msg, ctx)
  return string.find(string.rep("a", 400), ".-.-.-b")
end
