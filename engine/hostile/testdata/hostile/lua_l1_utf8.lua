-- about: L1: the utf8 helper works by code point
-- expect: ok 2|לו|ÑA|םולש|true
function handle(msg, ctx)
  return table.concat({utf8.len("£1"), utf8.sub("שלום", 2, 3), utf8.upper("ña"), utf8.reverse("שלום"), tostring(utf8.valid("£"))}, "|")
end
