--[[
  Emits run_stalled for the runs of one shard that had no event since the
  cutoff (protocol.md section 9, "Stall detection"). Each stalled run gets one
  entry in the shard's ingest stream, shaped like an edge's critical event,
  so the sequencer gives it a seq and it is replayed like any other. The
  sequencer applies it only if the run is still running with the same
  `updated` (field `l`); an event that overtook it makes it a no-op.

  The XADD and the ZREM from `running` are one step: a second call (another
  replica, a retried job) finds nothing to emit until the sequencer puts the
  run back in `running` with a newer event. Members whose run hash is gone
  (expired) or is no longer running are dropped. A member whose score is
  older than its run's `updated` (the score lags the hash) gets `updated` as
  its score, so it leaves the window without being emitted.

  Input:
    KEYS[1]  the shard's running runs, `<base>running` (routes the call):
             member `userId|runId`, score = the run's last event (ms)
    ARGV[1]  key base of the shard, e.g. "aw:{s3}:"
    ARGV[2]  now (ms): the event's `ts`
    ARGV[3]  cutoff (ms): now - RUN_STALL_MS; a run whose last event is at or
             before it has stalled
    ARGV[4]  at most this many members are looked at per call
    ARGV[5]  the event name (RUN_STALLED_EVENT, "run_stalled")

  Keys derived from the base (all in the shard's slot):
    <base>ingest                   the shard's ingest stream
    <base>r|<userId>|<runId>       the run hash: status, updated, stalls

  Output: { emitted, examined }
    emitted   run_stalled entries added to the ingest stream
    examined  members looked at; equal to ARGV[4] when more may be waiting
]]
local runningKey = KEYS[1]
local base = ARGV[1]
local now = ARGV[2]
local cutoff = tonumber(ARGV[3])
local maxCount = tonumber(ARGV[4])
local eventName = ARGV[5]

local ingestKey = base .. 'ingest'
local due = redis.call('ZRANGEBYSCORE', runningKey, '-inf', cutoff, 'LIMIT', 0, maxCount)

local emitted = 0
for _, member in ipairs(due) do
  -- '|' cannot occur in a user id, so the first one ends it; a run id may hold more.
  local bar = string.find(member, '|', 1, true)
  local run = bar and redis.call('HMGET', base .. 'r|' .. member, 'status', 'updated', 'stalls')
  local updated = run and tonumber(run[2])
  if run == nil or run[1] ~= 'running' or updated == nil then
    redis.call('ZREM', runningKey, member)
  elseif updated > cutoff then
    redis.call('ZADD', runningKey, updated, member)
  else
    local userId = string.sub(member, 1, bar - 1)
    local runId = string.sub(member, bar + 1)
    local eventId = eventName .. ':' .. runId .. ':' .. ((tonumber(run[3]) or 0) + 1)
    -- Field order as the edge writes event bodies; the stored `updated` string
    -- is used as is (tostring would print a large number in exponent form).
    local body = '"id":' .. cjson.encode(eventId)
      .. ',"critical":true,"name":' .. cjson.encode(eventName)
      .. ',"runId":' .. cjson.encode(runId)
      .. ',"ts":' .. now
      .. ',"data":{"lastEventTs":' .. run[2] .. '}}'
    redis.call('XADD', ingestKey, '*',
      'i', eventId, 'u', userId, 'c', '1', 'b', body, 'r', runId, 'k', 's', 'l', run[2])
    redis.call('ZREM', runningKey, member)
    emitted = emitted + 1
  end
end
return { emitted, #due }
