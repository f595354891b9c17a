--[[
  Gives users of one shard a new epoch after the shard's history lost
  writes (a failover dropped the tail of the replication stream, or Redis
  was restored from an older backup). A seq a client saw may be handed to
  another event from now on; the new epoch tells every client to resync
  (welcome resumed:false) instead of dropping that event as a duplicate.
  The seq counter and the log stay as they are: numbering goes on from what
  survived, under the new epoch.

  Input:
    KEYS[1]  history mark of the shard (only to place the call in the slot)
    ARGV[1]  key base of the shard, e.g. "aw:{s3}:"
    ARGV[2]  the new epoch
    ARGV[3]  'all' (every user of the shard's users set) or 'listed'
    ARGV[4+] user ids, when ARGV[3] is 'listed'

  Output:
    Per user that has a history and a route, for the open connections to
    learn of the new epoch: userId, latest seq, latest frame, routeCount,
    node ids... (users without history, log entry or route are left out).
]]
local base = ARGV[1]
local newEpoch = ARGV[2]
local mode = ARGV[3]
local firstUserArg = 4

local users = {}
if mode == 'all' then
  users = redis.call('ZRANGE', base .. 'users', 0, -1)
else
  for i = firstUserArg, #ARGV do
    users[#users + 1] = ARGV[i]
  end
end

local out = {}
for _, userId in ipairs(users) do
  local userBase = base .. 'u:' .. userId .. ':'
  local metaKey = userBase .. 'meta'
  if redis.call('HEXISTS', metaKey, 'epoch') == 1 then
    redis.call('HSET', metaKey, 'epoch', newEpoch)
    local last = redis.call('XREVRANGE', userBase .. 'log', '+', '-', 'COUNT', 1)
    local nodes = redis.call('HKEYS', userBase .. 'routes')
    if #last > 0 and #nodes > 0 then
      out[#out + 1] = userId
      out[#out + 1] = tonumber(string.match(last[1][1], '^(%d+)'))
      out[#out + 1] = last[1][2][2]
      out[#out + 1] = #nodes
      for n = 1, #nodes do
        out[#out + 1] = nodes[n]
      end
    end
  end
end
return out
