-- about: L1: string.reverse of Hebrew reverses bytes; the reply stays valid UTF-8
-- expect: ok �ולש�
function handle(msg, ctx)
  return string.reverse("שלום")
end
