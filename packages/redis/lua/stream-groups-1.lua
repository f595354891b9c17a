--[[
  XINFO GROUPS of a stream, routed by its key. XINFO names its key after a
  subcommand, so a cluster client would route it by the word GROUPS (see
  ensure-group-1.lua); through EVALSHA it goes to the stream's node.

  Input:
    KEYS[1]  the stream

  Output: XINFO GROUPS' reply (per group a flat field/value list), or an
  empty list when the stream does not exist.
]]
local stream = KEYS[1]

if redis.call('EXISTS', stream) == 0 then
  return {}
end
return redis.call('XINFO', 'GROUPS', stream)
