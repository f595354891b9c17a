--[[
  Sequences and persists a batch of ingest entries of one or more shards,
  then reads each user's routes. On a Redis Cluster a call holds one shard
  (all its keys live in the shard's slot, KEYS[1] routes it); on a single
  Redis one call holds every shard a replica owns, so a busy replica pays
  one round trip per batch, not one per shard.

  Order inside the script is the connect/live race guarantee: the log is
  written before the routes are read (open-session registers the route
  before it reads the log).

  In forwarding mode (ARGV[6] not empty) the script also appends each event
  to the inbox of every node holding its user and acknowledges the shard's
  entries (XACK): persist, forward and ack are then one atomic step, and a
  crash can only come before it (the entries stay pending and are
  redelivered) or after it. Forwarding mode is only used where inbox keys of
  other slots may be touched (a single Redis) and no replication wait must
  come between persisting and forwarding.

  Input:
    KEYS[1]  lease key of the first shard of the call (routes the call)
    ARGV[1]  now (ms)
    ARGV[2]  retention (ms)
    ARGV[3]  retention max events per user
    ARGV[4]  dedupe window (ms)
    ARGV[5]  epoch to use when a user's history is created afresh
    ARGV[6]  forwarding mode: inbox key prefix (e.g. "aw:{n:"), or "" for none
    ARGV[7]  inbox key suffix (e.g. "}:inbox")
    ARGV[8]  approximate inbox max length
    ARGV[9]  consumer group of the ingest streams (for XACK)
    ARGV[10] number of shards in the call, S
    then per shard, S times:
      key base ("aw:{s3}:"), lease key, lease value ("owner|token"),
      ingest stream key, history mark the caller last saw for the shard
      ('' when unknown), entry count N, extra ack count M,
      N x 5 values (entryId, eventId, userId, critical 1/0, body),
      M entry ids to acknowledge without processing (malformed entries)

  Output: { shards, statuses, forwards }
    shards    per shard of the call, two values: code and mark. Code 0: done,
              mark is the shard's history mark after the call. Code -1
              (fenced): the lease is not held; code -3 (history lost): the
              stored mark is below the caller's, mark is the stored one. A
              shard with a non-zero code is left untouched (entries pending).
    statuses  per entry of done shards, in input order: 0 duplicate, 1 new,
              2 redelivery
    forwards  per accepted entry of done shards: shard index (1-based in the
              call), seq (0 when not critical), frame, epoch, userId,
              routeCount, node ids... In forwarding mode only critical
              entries, with frame '' and no nodes (the caller remembers what
              it wrote, for the history mark).

  History mark: a counter in the shard's slot (aw:{sN}:hist), incremented by
  every call that appends to a log of the shard. It only goes backwards when
  Redis lost writes (a failover, a restore), so a caller that remembers the
  last value it got detects the loss before it hands out a seq that a client
  may already have seen (docs/operations.md, "Lost history").
]]
local now = tonumber(ARGV[1])
local retentionMs = tonumber(ARGV[2])
local retentionMax = tonumber(ARGV[3])
local dedupeMs = tonumber(ARGV[4])
local freshEpoch = ARGV[5]
local inboxPrefix = ARGV[6]
local inboxSuffix = ARGV[7]
local inboxMaxLen = ARGV[8]
local group = ARGV[9]
local shardCount = tonumber(ARGV[10])
local forwarding = inboxPrefix ~= ''

local cutoff = now - retentionMs
-- TTLs and the shard's user index are refreshed at most this often per user
-- (hot path: three calls per event saved at a few events per second). Keys
-- then live up to one interval longer than the retention, never shorter.
local refreshMs = math.min(1000, math.floor(retentionMs / 16))

-- Drops time-expired entries from the head of a user's log, keeping the
-- newest. Returns the time of the entry that is now the head.
local function trimExpired(logKey)
  local head = redis.call('XRANGE', logKey, '-', '+', 'COUNT', 32)
  local keepFrom = nil
  local headTs = now
  for i = 1, #head do
    local ts = tonumber(head[i][2][4]) or now
    headTs = ts
    if i < #head and ts < cutoff then
      keepFrom = head[i + 1][1]
    else
      break
    end
  end
  if keepFrom then
    redis.call('XTRIM', logKey, 'MINID', keepFrom)
  end
  return headTs
end

local function frameOf(seq, body)
  if seq > 0 then
    return '{"type":"event","seq":' .. seq .. ',' .. body
  end
  return '{"type":"event",' .. body
end

-- Per-user state read once per call (hot path: a batch often holds many
-- events of the same user). Seq is counted here and stored once at the end.
local users = {}
local function userState(base, userId)
  local userBase = base .. 'u:' .. userId .. ':'
  local user = users[userBase]
  if user == nil then
    -- head: a lower bound of the log head's time (0 unknown), so the head is
    -- only read when something in it may have expired; refreshed: when TTLs
    -- and the user index were last set.
    local meta = redis.call('HMGET', userBase .. 'meta', 'epoch', 'seq', 'head', 'refreshed')
    user = {
      base = userBase,
      shardBase = base,
      userId = userId,
      epoch = meta[1],
      seq = tonumber(meta[2] or '0'),
      head = tonumber(meta[3] or '0'),
      refreshed = tonumber(meta[4] or '0'),
      appended = false,
    }
    users[userBase] = user
  end
  return user
end

local shardResults = {}
local statuses = {}
-- Accepted entries in input order: { seq, body, user, shard index }.
local accepted = {}
local acks = {}
-- Per shard done: { history key, appended anything }.
local marks = {}

local at = 11
for s = 1, shardCount do
  local base = ARGV[at]
  local leaseKey = ARGV[at + 1]
  local leaseValue = ARGV[at + 2]
  local ingestKey = ARGV[at + 3]
  local expectedMark = tonumber(ARGV[at + 4])
  local entryCount = tonumber(ARGV[at + 5])
  local extraAcks = tonumber(ARGV[at + 6])
  local first = at + 7
  local afterEntries = first + entryCount * 5
  at = afterEntries + extraAcks

  local historyKey = base .. 'hist'
  local storedMark = 0
  local code = 0
  if redis.call('GET', leaseKey) ~= leaseValue then
    code = -1
  else
    storedMark = tonumber(redis.call('GET', historyKey) or '0')
    if expectedMark and storedMark < expectedMark then
      code = -3
    end
  end
  shardResults[#shardResults + 1] = code
  shardResults[#shardResults + 1] = storedMark
  if code == 0 then
    local mark = { historyKey, false, #shardResults }
    marks[#marks + 1] = mark
    local ids = {}
    for i = first, afterEntries - 1, 5 do
      local entryId = ARGV[i]
      local eventId = ARGV[i + 1]
      local userId = ARGV[i + 2]
      local critical = ARGV[i + 3] == '1'
      local body = ARGV[i + 4]
      ids[#ids + 1] = entryId
      local user = userState(base, userId)
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
        mark[2] = true
        redis.call('XADD', user.base .. 'log', 'MAXLEN', retentionMax, seq .. '-0',
          'f', frameOf(seq, body), 't', now)
      end
      statuses[#statuses + 1] = status
      if status ~= 0 then
        accepted[#accepted + 1] = { seq, body, user, s }
      end
    end
    for i = afterEntries, at - 1 do
      ids[#ids + 1] = ARGV[i]
    end
    if forwarding and #ids > 0 then
      acks[#acks + 1] = { ingestKey, ids }
    end
  end
end

-- Writes of the call are done; now store each user's position and read routes.
for _, user in pairs(users) do
  if user.appended then
    local metaKey = user.base .. 'meta'
    local logKey = user.base .. 'log'
    if user.head < cutoff then
      user.head = trimExpired(logKey)
    end
    if now - user.refreshed >= refreshMs then
      redis.call('HSET', metaKey, 'epoch', user.epoch, 'seq', user.seq, 'head', user.head,
        'refreshed', now)
      redis.call('PEXPIRE', metaKey, retentionMs + refreshMs)
      redis.call('PEXPIRE', logKey, retentionMs + refreshMs)
      redis.call('ZADD', user.shardBase .. 'users', now, user.userId)
    else
      redis.call('HSET', metaKey, 'epoch', user.epoch, 'seq', user.seq, 'head', user.head)
    end
  end
  user.nodes = redis.call('HKEYS', user.base .. 'routes')
end

-- Every shard that appended moves its history mark on.
for m = 1, #marks do
  local mark = marks[m]
  if mark[2] then
    shardResults[mark[3]] = redis.call('INCR', mark[1])
  end
end

local forwards = {}
for r = 1, #accepted do
  local item = accepted[r]
  local seq = item[1]
  local user = item[3]
  local frame = frameOf(seq, item[2])
  local epoch = user.epoch or ''
  local nodes = user.nodes
  if forwarding then
    -- Inbox fields u, s, f, e in this order (InboxField; the edge reads them by position).
    for n = 1, #nodes do
      redis.call('XADD', inboxPrefix .. nodes[n] .. inboxSuffix, 'MAXLEN', '~', inboxMaxLen, '*',
        'u', user.userId, 's', seq, 'f', frame, 'e', epoch)
    end
    if seq > 0 then
      forwards[#forwards + 1] = item[4]
      forwards[#forwards + 1] = seq
      forwards[#forwards + 1] = ''
      forwards[#forwards + 1] = epoch
      forwards[#forwards + 1] = user.userId
      forwards[#forwards + 1] = 0
    end
  else
    forwards[#forwards + 1] = item[4]
    forwards[#forwards + 1] = seq
    forwards[#forwards + 1] = frame
    forwards[#forwards + 1] = epoch
    forwards[#forwards + 1] = user.userId
    forwards[#forwards + 1] = #nodes
    for n = 1, #nodes do
      forwards[#forwards + 1] = nodes[n]
    end
  end
end

-- In slices: unpack has a stack limit.
for a = 1, #acks do
  local ids = acks[a][2]
  for from = 1, #ids, 1000 do
    redis.call('XACK', acks[a][1], group, unpack(ids, from, math.min(from + 999, #ids)))
  end
end

return { shardResults, statuses, forwards }
