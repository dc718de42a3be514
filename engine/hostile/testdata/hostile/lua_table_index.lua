-- about: t[67108863] = 1 no longer allocates a gigabyte-long array part
-- expect: ok ok
function handle(msg, ctx)
  local t = {}
  t[67108863] = 1
  return "ok"
end
