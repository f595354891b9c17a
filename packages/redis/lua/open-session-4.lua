--[[
  Opens a connection's session for a user: enforces the per-user connection
  limit, registers the route of this node, then reads the history position
  and the first replay page. Registering before reading closes the
  connect/live race: an event persisted after this script is forwarded to
  this node; one persisted before is in the log read here. The same holds
  for runs: the snapshot of each running or stalled run is read here too, so
  every append with a higher chunk reaches this node afterwards.

  Input:
    KEYS[1]  user meta hash (epoch, seq)
    KEYS[2]  user log stream (ids "<seq>-0")
    KEYS[3]  user routes hash (nodeId -> connection count)
    KEYS[4]  set of the user's running and stalled runs (see persist-batch-1.lua)
    ARGV[1]  node id
    ARGV[2]  client's lastSeq, or -1 when absent
    ARGV[3]  client's epoch, or '' when absent
    ARGV[4]  epoch to use when the user has no history yet, or when the
             client proves the history lost writes (lastSeq > latest seq
             under the same epoch)
    ARGV[5]  retention (ms): lifetime of a fresh meta hash
    ARGV[6]  max connections per user (0 = unlimited)
    ARGV[7]  replay page size
    ARGV[8]  run hash key before the run id (base..'r|'..userId..'|')
    ARGV[9]  text key before the stream name (base..'t|'..userId..'|')
    ARGV[10+] ids of edge nodes whose heartbeat expired but that are not
             reaped yet (optional): their routes do not count toward the
             per-user limit, so a dead node's leftovers do not lock the user
             out until the reaper removes them. Every other route counts.

  Output:
    {-2, count} when the user is at the connection limit.
    {1, epoch, latestSeq, oldestSeq, resumed (1/0), replayFrom (0 = none),
     runCount, run records (as read-run-1.lua) of the running and stalled
     runs, then seq, frame, seq, frame, ...}
]]
local metaKey = KEYS[1]
local logKey = KEYS[2]
local routesKey = KEYS[3]
local liveKey = KEYS[4]
local nodeId = ARGV[1]
local lastSeq = tonumber(ARGV[2])
local clientEpoch = ARGV[3]
local freshEpoch = ARGV[4]
local retentionMs = tonumber(ARGV[5])
local maxPerUser = tonumber(ARGV[6])
local pageSize = tonumber(ARGV[7])
local runKeyPrefix = ARGV[8]
local textKeyPrefix = ARGV[9]
local firstExpiredNodeArg = 10

if maxPerUser > 0 then
  local expired = {}
  for i = firstExpiredNodeArg, #ARGV do
    expired[ARGV[i]] = true
  end
  -- A user's routes hash holds one field per node holding the user: small.
  local count = 0
  local routes = redis.call('HGETALL', routesKey)
  for i = 1, #routes, 2 do
    if not expired[routes[i]] then
      count = count + tonumber(routes[i + 1])
    end
  end
  if count >= maxPerUser then
    return {-2, count}
  end
end
redis.call('HINCRBY', routesKey, nodeId, 1)

local epoch = redis.call('HGET', metaKey, 'epoch')
if not epoch then
  redis.call('HSET', metaKey, 'epoch', freshEpoch, 'seq', 0)
  redis.call('PEXPIRE', metaKey, retentionMs)
  epoch = freshEpoch
end
local latest = tonumber(redis.call('HGET', metaKey, 'seq') or '0')
local oldest = 0
local first = redis.call('XRANGE', logKey, '-', '+', 'COUNT', 1)
if #first > 0 then
  oldest = tonumber(string.match(first[1][1], '^(%d+)'))
end

local resumed = 1
local from = 0
if lastSeq >= 0 then
  if clientEpoch ~= '' and clientEpoch ~= epoch then
    resumed = 0
    from = oldest
  elseif lastSeq > latest then
    resumed = 0
    if clientEpoch == epoch then
      -- The client saw seqs this history no longer has (a failover or a
      -- restore took writes back): those seqs will be handed to other
      -- events. A new epoch makes every client of the user resync.
      epoch = freshEpoch
      redis.call('HSET', metaKey, 'epoch', epoch)
      from = oldest
    end
  elseif lastSeq + 1 < oldest then
    resumed = 0
    from = oldest
  elseif lastSeq < latest then
    from = lastSeq + 1
  end
end

local out = {1, epoch, latest, oldest, resumed, from, 0}

-- Snapshots of the runs still going (the record layout of read-run-1.lua).
-- Only the live set is read: a user may keep many ended runs.
local runIds = redis.call('SMEMBERS', liveKey)
for r = 1, #runIds do
  local runId = runIds[r]
  local fields = redis.call('HGETALL', runKeyPrefix .. runId)
  local status = nil
  local started = 0
  local updated = 0
  local streams = {}
  local truncated = {}
  for i = 1, #fields, 2 do
    local name = fields[i]
    if name == 'status' then
      status = fields[i + 1]
    elseif name == 'started' then
      started = fields[i + 1]
    elseif name == 'updated' then
      updated = fields[i + 1]
    elseif string.sub(name, 1, 2) == 'c:' then
      streams[#streams + 1] = { string.sub(name, 3), fields[i + 1] }
    elseif string.sub(name, 1, 2) == 'x:' then
      truncated[string.sub(name, 3)] = true
    end
  end
  if status ~= 'running' and status ~= 'stalled' then
    -- Expired (or ended by a write this set missed): no longer live.
    redis.call('SREM', liveKey, runId)
  else
    out[7] = out[7] + 1
    out[#out + 1] = runId
    out[#out + 1] = status
    out[#out + 1] = started
    out[#out + 1] = updated
    out[#out + 1] = #streams
    for s = 1, #streams do
      local stream = streams[s][1]
      out[#out + 1] = stream
      out[#out + 1] = streams[s][2]
      out[#out + 1] = truncated[stream] and 1 or 0
      out[#out + 1] = redis.call('GET', textKeyPrefix .. stream .. '|' .. runId) or ''
    end
  end
end
if from > 0 then
  local page = redis.call('XRANGE', logKey, from .. '-0', '+', 'COUNT', pageSize)
  for i = 1, #page do
    out[#out + 1] = tonumber(string.match(page[i][1], '^(%d+)'))
    out[#out + 1] = page[i][2][2]
  end
end
return out
