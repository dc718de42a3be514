-- about: every run starts from pristine globals, libraries and metatables
-- expect: ok clean
-- runs: 3
-- Each run checks that nothing of an earlier run is left, then changes
-- everything it can reach.
local chunkRuns = (chunkRuns or 0) + 1
function handle(msg, ctx)
  local dirty = {}
  local function check(ok, what) if not ok then dirty[#dirty + 1] = what end end
  check(leaked == nil, "global")
  check(rawget(_G, "leaked2") == nil and _G.nosuchname == nil, "leaked through _G")
  check(getmetatable(_G) == false and _G._G == _G, "metatable of _G")
  check(string.upper("a") == "A", "string.upper")
  check(("a"):upper() == "A", "string method")
  check(string.cache == nil, "field added to string")
  check(getmetatable("").__index == string, "string metatable")
  check(getmetatable("").extra == nil, "field in the string metatable")
  check(math.pi > 3.14 and math.pi < 3.15, "math.pi")
  check(os.time ~= nil and type(os.time()) == "number", "os.time")
  check(table.insert ~= nil and table.x == nil and rawget(table, "x") == nil, "table library")
  check(next(string) == nil, "string overlay")
  check(utf8.len("ab") == 2, "utf8 helper")
  check(tostring(5) == "5" and getmetatable(1) == nil, "number metatable")
  check(chunkRuns == 1, "upvalue of the chunk")
  check(type(print) == "function", "print")
  if #dirty > 0 then return table.concat(dirty, ",") end

  leaked = "secret of an earlier run"
  rawset(_G, "leaked2", 1)
  string.upper = function() return "hijacked" end
  string.cache = {}
  getmetatable("").extra = true
  math.pi = 3
  os.time = nil
  table.x = 1
  table.insert = nil
  utf8.len = function() return 0 end
  print = nil
  chunkRuns = 99
  pcall(setmetatable, string, {__index = function() return "x" end})
  rawset(math, "floor", 1)
  getmetatable("").__index = {}
  pcall(setmetatable, "", {__index = function() return function() return "x" end end})
  pcall(setmetatable, 0, {__tostring = function() return "x" end, __index = {x = 1}})
  pcall(setmetatable, _G, {__index = function() return "from a metatable" end,
    __newindex = function() end})
  _G._G = nil
  return "clean"
end
