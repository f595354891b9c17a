--[[
  Creates a stream's consumer group (and the stream) unless it exists. A
  script rather than XGROUP CREATE from the client: XGROUP names its key
  after a subcommand, so a cluster client cannot route it by key (ioredis
  sends it by the slot of the word CREATE, and inside an auto-pipeline the
  MOVED reply reaches the caller). EVALSHA is routed by KEYS[1].

  Input:
    KEYS[1]  the stream
    ARGV[1]  group name

  Output: 1 when created, 0 when it existed.
]]
local stream = KEYS[1]
local group = ARGV[1]

local created = redis.pcall('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
if type(created) == 'table' and created.err then
  if string.find(created.err, 'BUSYGROUP', 1, true) then
    return 0
  end
  return redis.error_reply(created.err)
end
return 1
