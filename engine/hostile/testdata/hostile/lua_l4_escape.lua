-- about: L4: nothing outside the sandbox is reachable
-- expect: ok clean
function handle(msg, ctx)
  local reachable = {}
  local names = {"io", "debug", "package", "require", "dofile", "loadfile", "load",
    "loadstring", "module", "collectgarbage", "getfenv", "setfenv", "newproxy"}
  for _, name in ipairs(names) do
    if _G[name] ~= nil then reachable[#reachable + 1] = name end
  end
  for _, name in ipairs({"execute", "remove", "rename", "exit", "getenv", "tmpname"}) do
    if os[name] ~= nil then reachable[#reachable + 1] = "os." .. name end
  end
  if pcall(string.dump, handle) then reachable[#reachable + 1] = "string.dump" end
  assert(type(os.time()) == "number" and type(os.date()) == "string")
  assert(type(os.clock()) == "number")
  if #reachable > 0 then return table.concat(reachable, ",") end
  return "clean"
end
