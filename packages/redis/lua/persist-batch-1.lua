--[[
  Sequences and persists a batch of ingest entries of one shard, then reads
  each user's routes. One call per batch: all keys live in the shard's slot.
  Order inside the script is the connect/live race guarantee: the log is
  written before the routes are read (open-session registers the route
  before it reads the log).

  Input:
    KEYS[1]  lease key of the shard (fencing: the caller must hold it)
    ARGV[1]  key base of the shard, e.g. "aw:{s3}:"
    ARGV[2]  lease value the caller holds ("owner|token")
    ARGV[3]  now (ms)
    ARGV[4]  retention (ms)
    ARGV[5]  retention max events per user
    ARGV[6]  dedupe window (ms)
    ARGV[7]  epoch to use when a user's history is created afresh
    ARGV[8]  history mark the caller last saw for this shard, or '' when
             unknown (see "history mark" below)
    ARGV[9+] per entry, 5 values: entryId, eventId, userId, critical (1/0), body

  Output:
    {-1} when the lease is not held (fenced).
    {-3, storedMark} when the shard's history mark is below ARGV[8]: writes
    the caller saw were taken back (failover, restore). Nothing is written.
    Otherwise: the shard's history mark after this batch, then per entry:
    status (0 duplicate, 1 new, 2 redelivery), seq (0 when not critical),
    frame, epoch, routeCount, node ids...

  History mark: a counter in the shard's slot, incremented by every batch
  that appends to a log. It only goes backwards when Redis lost writes, so a
  caller that remembers the last value it got detects the loss before it
  hands out a seq that a client may already have seen.
]]
local leaseKey = KEYS[1]
local base = ARGV[1]
local leaseValue = ARGV[2]
local now = tonumber(ARGV[3])
local retentionMs = tonumber(ARGV[4])
local retentionMax = tonumber(ARGV[5])
local dedupeMs = tonumber(ARGV[6])
local freshEpoch = ARGV[7]
local expectedMark = tonumber(ARGV[8])
local firstEntryArg = 9
local historyKey = base .. 'hist'

if redis.call('GET', leaseKey) ~= leaseValue then
  return {-1}
end
local storedMark = tonumber(redis.call('GET', historyKey) or '0')
if expectedMark and storedMark < expectedMark then
  return {-3, storedMark}
end

local cutoff = now - retentionMs

-- Drops time-expired entries from the head of a user's log, keeping the newest.
local function trimExpired(logKey)
  local head = redis.call('XRANGE', logKey, '-', '+', 'COUNT', 32)
  local keepFrom = nil
  for i = 1, #head - 1 do
    local ts = tonumber(head[i][2][4])
    if ts and ts < cutoff then
      keepFrom = head[i + 1][1]
    else
      break
    end
  end
  if keepFrom then
    redis.call('XTRIM', logKey, 'MINID', keepFrom)
  end
end

local function frameOf(seq, body)
  if seq > 0 then
    return '{"type":"event","seq":' .. seq .. ',' .. body
  end
  return '{"type":"event",' .. body
end

-- Per-user state read once per batch (hot path: a batch often holds many
-- events of the same user). Seq is counted here and stored once at the end.
local users = {}
local function userState(userId)
  local user = users[userId]
  if user == nil then
    local userBase = base .. 'u:' .. userId .. ':'
    local meta = redis.call('HMGET', userBase .. 'meta', 'epoch', 'seq')
    user = {
      base = userBase,
      epoch = meta[1],
      seq = tonumber(meta[2] or '0'),
      appended = false,
    }
    users[userId] = user
  end
  return user
end

local results = {}
for i = firstEntryArg, #ARGV, 5 do
  local entryId = ARGV[i]
  local eventId = ARGV[i + 1]
  local userId = ARGV[i + 2]
  local critical = ARGV[i + 3] == '1'
  local body = ARGV[i + 4]
  local user = userState(userId)
  local dedupeKey = base .. 'd:' .. userId .. ':' .. eventId

  local candidate = 0
  if critical then
    candidate = user.seq + 1
  end
  -- One call both claims the id and tells whether it was seen before.
  local seen = redis.call('SET', dedupeKey, entryId .. ' ' .. candidate, 'NX', 'GET', 'PX', dedupeMs)
  local status = 1
  local seq = 0
  if seen then
    local sep = string.find(seen, ' ', 1, true)
    if string.sub(seen, 1, sep - 1) == entryId then
      -- Same stream entry again: a crash came between persist and ack. Forward again.
      status = 2
      seq = tonumber(string.sub(seen, sep + 1))
    else
      status = 0
    end
  elseif critical then
    if not user.epoch then
      user.epoch = freshEpoch
    end
    seq = candidate
    user.seq = seq
    user.appended = true
    redis.call('XADD', user.base .. 'log', 'MAXLEN', retentionMax, seq .. '-0',
      'f', frameOf(seq, body), 't', now)
  end
  results[#results + 1] = { status, seq, body, userId }
end

-- Writes of the batch are done; now store each user's position and read routes.
local appendedAny = false
for userId, user in pairs(users) do
  if user.appended then
    appendedAny = true
    local metaKey = user.base .. 'meta'
    local logKey = user.base .. 'log'
    redis.call('HSET', metaKey, 'epoch', user.epoch, 'seq', user.seq)
    redis.call('PEXPIRE', metaKey, retentionMs)
    redis.call('PEXPIRE', logKey, retentionMs)
    redis.call('ZADD', base .. 'users', now, userId)
    trimExpired(logKey)
  end
  user.nodes = redis.call('HKEYS', user.base .. 'routes')
end

if appendedAny then
  storedMark = redis.call('INCR', historyKey)
end

local out = {storedMark}
for r = 1, #results do
  local result = results[r]
  local status = result[1]
  local seq = result[2]
  out[#out + 1] = status
  out[#out + 1] = seq
  if status == 0 then
    out[#out + 1] = ''
    out[#out + 1] = ''
    out[#out + 1] = 0
  else
    local user = users[result[4]]
    out[#out + 1] = frameOf(seq, result[3])
    out[#out + 1] = user.epoch or ''
    out[#out + 1] = #user.nodes
    for n = 1, #user.nodes do
      out[#out + 1] = user.nodes[n]
    end
  end
end

return out
