-- about: os.date with a format of a million conversions
-- expect: memory
function handle(msg, ctx)
  return os.date(string.rep("%c", 1000000))
end
