function handle(m)
  return "ok"
end
