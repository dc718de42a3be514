function handle(m)
  if then return 1 end
end
