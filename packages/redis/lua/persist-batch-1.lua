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
  to the inbox of every node holding its user (one entry per node and call,
  holding that node's events in order, each starting with its `u` field;
  MAXLEN scaled so that an inbox keeps about ARGV[8] events) and
  acknowledges the shard's
  entries (XACK): persist, forward and ack are then one atomic step, and a
  crash can only come before it (the entries stay pending and are
  redelivered) or after it. Forwarding mode is only used where inbox keys of
  other slots may be touched (a single Redis) and no replication wait must
  come between persisting and forwarding.

  Read mode (forwarding mode only, a negative entry count -C for a shard):
  the script reads up to C new entries of the shard's ingest stream itself
  (XREADGROUP ... NOACK) instead of taking them as arguments. Reading,
  persisting and forwarding are then one atomic step, and the event bodies
  never travel to the buffer and back (profiled: a third of the buffer's
  CPU was writing them back as arguments).

  Order guard: a shard's entries must be persisted in stream order, but an
  entry can sit pending for a consumer that will never process it: a read
  that reached Redis after its sender lost the shard (ioredis sends a read
  again once a failover is over; a read queued while Redis was away). The
  lease holder would only claim it on its next periodic reclaim, after newer
  entries. So a shard whose group holds a pending entry older than the
  call's first one (in read mode: any pending entry, as XREADGROUP > reads
  only newer ones) is refused with code -4 and left untouched: the caller
  claims and drains the pending entries in order, then goes on.

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
    ARGV[9]  consumer group of the ingest streams (XACK, the order guard)
    ARGV[10] RUN_MAX_BYTES: bytes kept of one stream's text
    ARGV[11] RUN_MAX_PER_USER: retained runs per user
    ARGV[12] RUN_TTL_MS: lifetime of a run after its last event
    ARGV[13] RUN_STALL_MS: 0 when stall detection is off (then the shard's
             running set is not kept)
    ARGV[14] number of shards in the call, S
    ARGV[15] consumer name in the group (read mode), else ''
    then per shard, S times:
      key base ("aw:{s3}:"), lease key, lease value ("owner|token"),
      ingest stream key, history mark the caller last saw for the shard
      ('' when unknown), entry count N (-C: read mode, up to C entries,
      then N = 0), extra ack count M, the oldest entry id the caller read
      for this shard (the order guard; '' for no guard outside read mode),
      N x 9 values (entryId, eventId, userId, critical 1/0, body, runId or
      '', run kind ('' any event, 'e' run end, 'a' append, 's' run_stalled),
      stream, text (appends) or the last event time (run_stalled)),
      M entry ids to acknowledge without processing (malformed entries)

  Output: { shards, statuses, forwards, reads }
    shards    per shard of the call, two values: code and mark. Code 0: done,
              mark is the shard's history mark after the call. Code -1
              (fenced): the lease is not held; code -3 (history lost): the
              stored mark is below the caller's, mark is the stored one;
              code -4 (pending before): older entries of the shard are
              pending (the order guard). A shard with a non-zero code is
              left untouched (entries pending).
    statuses  per entry of done shards, in input order: 0 duplicate (or a
              run_stalled made moot by a later event), 1 new, 2 redelivery
    forwards  per accepted entry of done shards: shard index (1-based in the
              call), seq (0 when not critical), frame, epoch, userId, chunk
              (0 when not an append), runId, stream, routeCount, node ids...
              In forwarding mode instead: shard index and userId, once per
              user with a critical event accepted (the caller remembers
              whose logs it wrote, for the history mark).
    reads     per read-mode shard, three values: entries read, of those
              skipped as malformed, and the id to wait for newer entries
              after (the last read, else the stream's newest; '' when the
              shard was not done)

  Runs (protocol.md section 9): an event that ends a run carries the run's
  final chunk count per stream (`runChunks`). An append gets the next chunk of its (user,
  run, stream) and its text is appended to the stream's text, in this same
  step, so chunks are contiguous, fenced and deduplicated like seqs. A
  stream's first chunk starts its text afresh (a text of an expired run of
  the same id may outlive that run's hash by up to one refresh). Keys
  (all in the shard's slot; '|' occurs in no user id or stream name):
    base..'r|'..user..'|'..run             hash: status, started, updated,
                                           stalls, refreshed, extended, indexed,
                                           c:<stream> chunks, b:<stream> bytes stored,
                                           x:<stream> truncated
    base..'t|'..user..'|'..stream..'|'..run  the stream's text
    base..'runs|'..user                    zset of the user's runs by last event
    base..'live|'..user                    set of the user's running and stalled
                                           runs (a member may have expired)
    base..'running'                        zset user..'|'..run of running runs
                                           by last event (the stall job's index)

  History mark: a counter in the shard's slot (aw:{sN}:hist), incremented by
  every call that appends to a log or a run text of the shard. It only goes
  backwards when Redis lost writes (a failover, a restore), so a caller that
  remembers the last value it got detects the loss before it hands out a seq
  or a chunk that a client may already have seen (docs/operations.md, "Lost history").
]]
-- Numbers go back to Redis as the strings they came in, or formatted once
-- per call or per event (hot path: Lua 5.1 turns a number into a string
-- with sprintf("%.14g"), about 0.5 µs for a timestamp, and an event passed
-- about ten of them; string.format('%d') takes half as long).
local nowArg = ARGV[1]
local now = tonumber(nowArg)
local retentionMs = tonumber(ARGV[2])
local retentionMaxArg = ARGV[3]
local dedupeArg = ARGV[4]
local dedupeMs = tonumber(dedupeArg)
local freshEpoch = ARGV[5]
local inboxPrefix = ARGV[6]
local inboxSuffix = ARGV[7]
local inboxMaxLen = ARGV[8]
local group = ARGV[9]
local runMaxBytes = tonumber(ARGV[10])
local runMaxPerUser = tonumber(ARGV[11])
local runTtlMs = tonumber(ARGV[12])
local runStallMs = tonumber(ARGV[13])
local shardCount = tonumber(ARGV[14])
local consumer = ARGV[15]
local forwarding = inboxPrefix ~= ''

local cutoff = now - retentionMs
-- A user's TTLs and the shard's user index are refreshed at most this often
-- per user (hot path: an HSET field, two PEXPIREs and a ZADD saved on most
-- events of an active user; at 2 events/s per user, a one-second interval
-- still refreshed every other event). Keys then live up to one interval
-- longer than the retention, never shorter.
local userRefreshMs = math.min(10000, math.floor(retentionMs / 16))
-- A run's place in its user's eviction order (by last event, to the second)
-- is refreshed at most this often.
local refreshMs = math.min(1000, math.floor(retentionMs / 16))
-- The stall job's index (`running`) only needs a lower bound of a run's last
-- event (emit-stalls-1.lua reads `updated` from the run and re-scores a
-- member that lags): refreshed every quarter of RUN_STALL_MS, a running run
-- never looks due, and a ZADD per run and second is saved.
local runningRefreshMs = math.max(refreshMs, math.floor(runStallMs / 4))
-- Runs are written for every append: their TTLs and indexes are refreshed
-- less often (keys live up to this much longer than RUN_TTL_MS).
local runRefreshMs = math.min(30000, math.floor(runTtlMs / 16))
-- An append's id only needs remembering while its run can be: a repeat
-- after that would start the run anew anyway (and 24 h of a key per token
-- would be most of a run's memory).
local function intArg(n)
  return string.format('%d', n)
end

local appendDedupeArg = intArg(math.min(dedupeMs, runTtlMs + runRefreshMs))

-- A time to store: `now` (most of them) as it came in.
local function timeArg(t)
  if t == now then
    return nowArg
  end
  return intArg(t)
end

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

-- seqArg, chunkArg: the event's seq or chunk as a string, or nil.
local function frameOf(seqArg, chunkArg, body)
  if seqArg then
    return '{"type":"event","seq":' .. seqArg .. ',' .. body
  end
  if chunkArg then
    return '{"type":"event","chunk":' .. chunkArg .. ',' .. body
  end
  return '{"type":"event",' .. body
end

-- Per-run state read once per call and written once at its end. Most
-- events of a run only move its `updated`: their run is read with one
-- HMGET of the scalar fields; the per-stream fields (chunks, bytes,
-- truncation) are read only for what needs them (appends, the end, and
-- the TTL extension of the texts), at most once per call: a run first
-- needed with them is read with one HGETALL for both.
local runs = {}
local runList = {}
local scalarFields = { 'status', 'started', 'updated', 'stalls', 'refreshed', 'extended',
  'indexed' }
local scalarSlot = {}
for i = 1, #scalarFields do
  scalarSlot[scalarFields[i]] = i
end

-- Takes the per-stream fields of a run's hash (HGETALL) into the run.
local function readStreams(run, fields)
  run.streamsLoaded = true
  for i = 1, #fields, 2 do
    local name = fields[i]
    local prefix = string.sub(name, 1, 2)
    if prefix == 'c:' then
      run.chunks[string.sub(name, 3)] = tonumber(fields[i + 1])
    elseif prefix == 'x:' then
      run.truncated[string.sub(name, 3)] = true
    elseif prefix == 'b:' then
      run.lengths[string.sub(name, 3)] = tonumber(fields[i + 1])
    end
  end
end

local function loadStreams(run)
  if not run.streamsLoaded then
    readStreams(run, redis.call('HGETALL', run.key))
  end
end

-- values: the scalar fields in scalarFields order (false when absent).
local function newRun(user, runKey, runId, values)
  local run = {
    key = runKey,
    user = user,
    runId = runId,
    status = values[1] or false,
    started = tonumber(values[2] or '0'),
    updated = tonumber(values[3] or '0'),
    stalls = tonumber(values[4] or '0'),
    refreshed = tonumber(values[5] or '0'),
    extended = tonumber(values[6] or '0'),
    indexed = tonumber(values[7] or '0'),
    chunks = {},
    truncated = {},
    -- Per stream: bytes stored (as the hash says, then as this call makes it).
    lengths = {},
    pending = {},
    streamsLoaded = false,
    created = false,
    evicted = false,
  }
  run.wasRunning = run.status == 'running'
  run.wasLive = run.wasRunning or run.status == 'stalled'
  run.loadedStatus = run.status
  run.loadedStalls = run.stalls
  runs[runKey] = run
  runList[#runList + 1] = run
  return run
end

local function runState(user, runId, needStreams)
  local runKey = user.shardBase .. 'r|' .. user.userId .. '|' .. runId
  local run = runs[runKey]
  if run == nil and needStreams then
    local fields = redis.call('HGETALL', runKey)
    local values = {}
    for i = 1, #fields, 2 do
      local slot = scalarSlot[fields[i]]
      if slot then
        values[slot] = fields[i + 1]
      end
    end
    run = newRun(user, runKey, runId, values)
    readStreams(run, fields)
  elseif run == nil then
    run = newRun(user, runKey, runId, redis.call('HMGET', runKey, unpack(scalarFields)))
  elseif needStreams then
    loadStreams(run)
  end
  return run
end

-- `"runChunks":{"answer":12},`: a run's final chunk count per stream, put
-- on the event that ends it, so a client that missed appends (a dropped
-- connection before its owed snapshot) knows its text is short and syncs.
-- Stream names need no escaping ([A-Za-z0-9._:-]).
local function runChunksField(run)
  local parts = {}
  for stream, chunks in pairs(run.chunks) do
    parts[#parts + 1] = '"' .. stream .. '":' .. chunks
  end
  return '"runChunks":{' .. table.concat(parts, ',') .. '},'
end

local function textKey(run, stream)
  return run.user.shardBase .. 't|' .. run.user.userId .. '|' .. stream .. '|' .. run.runId
end

-- Any accepted event of a run: a new run starts running; a stalled one runs again.
local function touchRun(run)
  if not run.status then
    run.status = 'running'
    run.started = now
    run.created = true
  elseif run.status == 'stalled' then
    run.status = 'running'
  end
  run.updated = now
end

-- Appends text to a stream, keeping at most runMaxBytes bytes, cut on a
-- UTF-8 character boundary. Written to Redis once per stream at the end.
local function appendText(run, stream, text)
  local parts = run.pending[stream]
  if parts == nil then
    parts = {}
    run.pending[stream] = parts
  end
  if run.truncated[stream] then
    return
  end
  local length = run.lengths[stream]
  if run.chunks[stream] == 1 then
    -- The stream's first append. A text under its key is left from an
    -- expired run of the same id (a text started between two TTL refreshes
    -- outlives its run's hash by up to one interval): start from nothing.
    redis.call('DEL', textKey(run, stream))
    length = 0
  elseif length == nil then
    -- Written before the hash kept lengths.
    length = redis.call('STRLEN', textKey(run, stream))
  end
  local room = runMaxBytes - length
  if #text > room then
    local cut = room
    -- Bytes 0x80-0xBF continue a character: never keep half of one.
    while cut > 0 do
      local b = string.byte(text, cut + 1)
      if b < 128 or b >= 192 then
        break
      end
      cut = cut - 1
    end
    text = string.sub(text, 1, cut)
    run.truncated[stream] = 'new'
  end
  if #text > 0 then
    parts[#parts + 1] = text
  end
  run.lengths[stream] = length + #text
end

-- Deletes a run and its texts (RUN_MAX_PER_USER eviction).
local function deleteRun(shardBase, userId, runId)
  local runKey = shardBase .. 'r|' .. userId .. '|' .. runId
  local cached = runs[runKey]
  if cached then
    cached.evicted = true
  end
  local fields = redis.call('HKEYS', runKey)
  for i = 1, #fields do
    if string.sub(fields[i], 1, 2) == 'c:' then
      redis.call('DEL', shardBase .. 't|' .. userId .. '|' .. string.sub(fields[i], 3) .. '|' .. runId)
    end
  end
  redis.call('DEL', runKey)
  redis.call('ZREM', shardBase .. 'running', userId .. '|' .. runId)
  redis.call('SREM', shardBase .. 'live|' .. userId, runId)
end

-- Stores what the call changed in a run: one HSET, one APPEND per stream,
-- index scores at most once a second, TTLs at most once per runRefreshMs
-- (and at once for new keys).
local function writeRun(run)
  if run.evicted then
    return
  end
  local user = run.user
  local base = user.shardBase
  local member = user.userId .. '|' .. run.runId
  local runsKey = base .. 'runs|' .. user.userId
  local liveKey = base .. 'live|' .. user.userId
  local refresh = run.created or now - run.refreshed >= refreshMs
  local extend = run.created or now - run.extended >= runRefreshMs
  if extend then
    -- The texts' TTLs are extended with the run's: their streams are needed.
    loadStreams(run)
  end
  local fields = { 'updated', timeArg(run.updated) }
  if run.created or run.status ~= run.loadedStatus or run.stalls ~= run.loadedStalls then
    fields[3] = 'status'
    fields[4] = run.status
    fields[5] = 'started'
    fields[6] = timeArg(run.started)
    fields[7] = 'stalls'
    fields[8] = run.stalls
  end
  if refresh then
    fields[#fields + 1] = 'refreshed'
    fields[#fields + 1] = nowArg
  end
  if extend then
    fields[#fields + 1] = 'extended'
    fields[#fields + 1] = nowArg
  end
  local index = runStallMs > 0 and run.status == 'running'
    and (not run.wasRunning or now - run.indexed >= runningRefreshMs)
  if index then
    fields[#fields + 1] = 'indexed'
    fields[#fields + 1] = nowArg
  end
  local newTexts = {}
  for stream, parts in pairs(run.pending) do
    fields[#fields + 1] = 'c:' .. stream
    fields[#fields + 1] = run.chunks[stream]
    fields[#fields + 1] = 'b:' .. stream
    fields[#fields + 1] = run.lengths[stream] or 0
    if run.truncated[stream] == 'new' then
      fields[#fields + 1] = 'x:' .. stream
      fields[#fields + 1] = '1'
    end
    if #parts > 0 then
      local key = textKey(run, stream)
      local text = table.concat(parts)
      if redis.call('APPEND', key, text) == #text then
        newTexts[#newTexts + 1] = key
      end
    end
  end
  redis.call('HSET', run.key, unpack(fields))
  local ttl = runTtlMs + runRefreshMs
  for i = 1, #newTexts do
    redis.call('PEXPIRE', newTexts[i], ttl)
  end
  if refresh then
    -- Eviction order: by last event, to the second.
    redis.call('ZADD', runsKey, timeArg(run.updated), run.runId)
  end
  if extend then
    redis.call('PEXPIRE', run.key, ttl)
    for stream in pairs(run.chunks) do
      redis.call('PEXPIRE', textKey(run, stream), ttl)
    end
    redis.call('ZREMRANGEBYSCORE', runsKey, '-inf', '(' .. (now - runTtlMs))
    redis.call('PEXPIRE', runsKey, ttl)
  end
  -- The runs a new connection gets a snapshot of (open-session-4.lua).
  local live = run.status == 'running' or run.status == 'stalled'
  if live and not run.wasLive then
    redis.call('SADD', liveKey, run.runId)
  end
  if live and (extend or not run.wasLive) then
    redis.call('PEXPIRE', liveKey, ttl)
  elseif run.wasLive and not live then
    redis.call('SREM', liveKey, run.runId)
  end
  if run.created then
    local excess = redis.call('ZCARD', runsKey) - runMaxPerUser
    if excess > 0 then
      local oldest = redis.call('ZRANGE', runsKey, 0, excess - 1)
      for i = 1, #oldest do
        deleteRun(base, user.userId, oldest[i])
      end
      redis.call('ZREMRANGEBYRANK', runsKey, 0, excess - 1)
    end
  end
  if index then
    redis.call('ZADD', base .. 'running', timeArg(run.updated), member)
  elseif runStallMs > 0 and run.wasRunning and run.status ~= 'running' then
    redis.call('ZREM', base .. 'running', member)
  end
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
      seqArg = meta[2] or '0',
      head = tonumber(meta[3] or '0'),
      headArg = meta[3] or '0',
      refreshed = tonumber(meta[4] or '0'),
      appended = false,
    }
    users[userBase] = user
  end
  return user
end

local shardResults = {}
local statuses = {}
-- Accepted entries in input order: { seq, body, user, shard index, chunk,
-- runId, stream, frame (critical: as the log has it), seq as a string (nil
-- when 0), chunk as a string (nil when 0) }.
local accepted = {}
local acks = {}
-- Per shard done: { history key, appended anything }.
local marks = {}
-- Read mode, per shard of the call that reads: count read, count skipped, last id.
local reads = {}

-- One entry of a shard whose lease and mark were checked: dedupe, seq or
-- chunk, log, run. `ids` collects the entry ids to acknowledge.
local function processEntry(s, base, mark, entryId, eventId, userId, critical, body, runId,
    runKind, stream, text)
  local user = userState(base, userId)
  local run = nil
  if runId ~= '' then
    -- Appends and the end need the run's streams; other events only its scalars.
    run = runState(user, runId, runKind == 'a' or runKind == 'e')
  else
    runKind = ''
  end
  local status = 1
  local seq = 0
  local chunk = 0
  local seqArg = nil
  local chunkArg = nil
  -- The frame as the log stores it, reused for the inboxes.
  local frame = nil
  if runKind == 's' and (run.status ~= 'running' or run.updated ~= tonumber(text)) then
    -- A run_stalled overtaken by an event of the run (or its end): moot,
    -- acknowledged and dropped. No dedupe key, so the next stall may use its id.
    status = 0
    if run.status == 'running' and runStallMs > 0 then
      -- The stall job took the run out of its index when it sent this one.
      redis.call('ZADD', base .. 'running', timeArg(run.updated), userId .. '|' .. runId)
    end
  else
    local dedupeKey = base .. 'd:' .. userId .. ':' .. eventId
    -- Critical events remember their seq, appends their chunk.
    local candidate = 0
    if critical then
      candidate = user.seq + 1
    elseif runKind == 'a' then
      candidate = (run.chunks[stream] or 0) + 1
    end
    local candidateArg = intArg(candidate)
    -- One call both claims the id and tells whether it was seen before.
    local window = dedupeArg
    if runKind == 'a' then
      window = appendDedupeArg
    end
    local seen = redis.call('SET', dedupeKey, entryId .. ' ' .. candidateArg, 'NX', 'GET', 'PX',
      window)
    if seen then
      local sep = string.find(seen, ' ', 1, true)
      if string.sub(seen, 1, sep - 1) == entryId then
        -- Same stream entry again: a crash came between persist and ack. Forward again.
        status = 2
        local numberArg = string.sub(seen, sep + 1)
        if critical then
          seq = tonumber(numberArg)
          seqArg = numberArg
        elseif runKind == 'a' then
          chunk = tonumber(numberArg)
          chunkArg = numberArg
        end
      else
        status = 0
      end
    else
      if critical then
        if not user.epoch then
          user.epoch = freshEpoch
        end
        seq = candidate
        seqArg = candidateArg
        user.seq = seq
        user.seqArg = seqArg
        user.appended = true
        mark[2] = true
        if runKind == 'e' then
          body = runChunksField(run) .. body
        end
        frame = frameOf(seqArg, nil, body)
        redis.call('XADD', user.base .. 'log', 'MAXLEN', retentionMaxArg, seqArg .. '-0',
          'f', frame, 't', nowArg)
      end
      if run then
        if runKind == 's' then
          run.status = 'stalled'
          run.stalls = run.stalls + 1
        else
          touchRun(run)
          if runKind == 'e' then
            run.status = 'ended'
          elseif runKind == 'a' then
            chunk = candidate
            chunkArg = candidateArg
            run.chunks[stream] = chunk
            appendText(run, stream, text)
            -- Chunks, like seqs, must never be handed out twice: a
            -- failover that loses appends must be detected too.
            mark[2] = true
          end
        end
        run.dirty = true
      end
    end
  end
  statuses[#statuses + 1] = status
  if status ~= 0 then
    accepted[#accepted + 1] = { seq, body, user, s, chunk, runId, stream, frame, seqArg, chunkArg }
  end
end

-- Read mode: the shard's new ingest entries, read here (NOACK: reading and
-- persisting are one atomic step, so nothing is ever left pending). Fields
-- by name as the edge writes them (IngestField); an entry without id, user
-- or body was not written by an edge: skipped and counted. Returns the
-- number read, the skipped count and the id to wait after (the last read,
-- or the stream's newest when nothing was new).
local function readEntries(s, base, mark, ingestKey, count)
  local reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'NOACK',
    'STREAMS', ingestKey, '>')
  local entries = reply and reply[1] and reply[1][2] or {}
  local skipped = 0
  for e = 1, #entries do
    local entryId = entries[e][1]
    local fields = entries[e][2]
    local eventId, userId, body
    local critical = false
    local runId, runKind, stream, text = '', '', '', ''
    for f = 1, #fields - 1, 2 do
      local name = fields[f]
      local value = fields[f + 1]
      if name == 'i' then
        eventId = value
      elseif name == 'u' then
        userId = value
      elseif name == 'c' then
        critical = value == '1'
      elseif name == 'b' then
        body = value
      elseif name == 'r' then
        runId = value
      elseif name == 'k' then
        runKind = value
      elseif name == 'n' then
        stream = value
      elseif name == 'a' or name == 'l' then
        text = value
      end
    end
    if eventId and eventId ~= '' and userId and userId ~= '' and body and body ~= '' then
      processEntry(s, base, mark, entryId, eventId, userId, critical, body, runId, runKind, stream,
        text)
    else
      skipped = skipped + 1
    end
  end
  local lastId
  if #entries > 0 then
    lastId = entries[#entries][1]
  else
    local newest = redis.call('XREVRANGE', ingestKey, '+', '-', 'COUNT', 1)
    lastId = newest[1] and newest[1][1] or '0-0'
  end
  return #entries, skipped, lastId
end

-- Whether stream id a is before stream id b ("ms-seq" each).
local function idBefore(a, b)
  local aMs, aSeq = string.match(a, '^(%d+)-(%d+)$')
  local bMs, bSeq = string.match(b, '^(%d+)-(%d+)$')
  aMs, bMs = tonumber(aMs), tonumber(bMs)
  if aMs ~= bMs then
    return aMs < bMs
  end
  return tonumber(aSeq) < tonumber(bSeq)
end

-- The order guard (see the header): whether the group holds a pending entry
-- of the stream before `oldest` ('' in read mode: any pending entry). A
-- missing group (an error reply: a table with `err`) holds nothing.
local function pendingBefore(ingestKey, oldest)
  local summary = redis.pcall('XPENDING', ingestKey, group)
  if type(summary) ~= 'table' or summary.err or summary[1] == 0 then
    return false
  end
  return oldest == '' or idBefore(summary[2], oldest)
end

local at = 16
for s = 1, shardCount do
  local base = ARGV[at]
  local leaseKey = ARGV[at + 1]
  local leaseValue = ARGV[at + 2]
  local ingestKey = ARGV[at + 3]
  local expectedMark = tonumber(ARGV[at + 4])
  local entryCount = tonumber(ARGV[at + 5])
  local extraAcks = tonumber(ARGV[at + 6])
  local oldestRead = ARGV[at + 7]
  local first = at + 8
  local readCount = 0
  if entryCount < 0 then
    if not forwarding then
      return redis.error_reply('ERR persist-batch: read mode needs forwarding mode')
    end
    readCount = -entryCount
    entryCount = 0
  end
  local afterEntries = first + entryCount * 9
  at = afterEntries + extraAcks

  local historyKey = base .. 'hist'
  local storedMark = 0
  local code = 0
  -- One call for both (same slot): per shard and call, not per event, but a
  -- call at moderate rates holds one or two events per shard.
  local held = redis.call('MGET', leaseKey, historyKey)
  if held[1] ~= leaseValue then
    code = -1
  else
    storedMark = tonumber(held[2] or '0')
    if expectedMark and storedMark < expectedMark then
      code = -3
    elseif (readCount > 0 or oldestRead ~= '') and pendingBefore(ingestKey, oldestRead) then
      code = -4
    end
  end
  shardResults[#shardResults + 1] = code
  shardResults[#shardResults + 1] = storedMark
  if code == 0 then
    local mark = { historyKey, false, #shardResults }
    marks[#marks + 1] = mark
    if readCount > 0 then
      local read, skipped, lastId = readEntries(s, base, mark, ingestKey, readCount)
      reads[#reads + 1] = read
      reads[#reads + 1] = skipped
      reads[#reads + 1] = lastId
    else
      local ids = {}
      for i = first, afterEntries - 1, 9 do
        ids[#ids + 1] = ARGV[i]
        processEntry(s, base, mark, ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3] == '1',
          ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8])
      end
      for i = afterEntries, at - 1 do
        ids[#ids + 1] = ARGV[i]
      end
      if forwarding and #ids > 0 then
        acks[#acks + 1] = { ingestKey, ids }
      end
    end
  elseif readCount > 0 then
    reads[#reads + 1] = 0
    reads[#reads + 1] = 0
    reads[#reads + 1] = ''
  end
end

for r = 1, #runList do
  if runList[r].dirty then
    writeRun(runList[r])
  end
end

-- Writes of the call are done; now store each user's position and read routes.
for _, user in pairs(users) do
  if user.appended then
    local metaKey = user.base .. 'meta'
    local logKey = user.base .. 'log'
    if user.head < cutoff then
      user.head = trimExpired(logKey)
      user.headArg = timeArg(user.head)
    end
    if now - user.refreshed >= userRefreshMs then
      redis.call('HSET', metaKey, 'epoch', user.epoch, 'seq', user.seqArg, 'head', user.headArg,
        'refreshed', nowArg)
      redis.call('PEXPIRE', metaKey, retentionMs + userRefreshMs)
      redis.call('PEXPIRE', logKey, retentionMs + userRefreshMs)
      redis.call('ZADD', user.shardBase .. 'users', nowArg, user.userId)
    else
      redis.call('HSET', metaKey, 'epoch', user.epoch, 'seq', user.seqArg, 'head', user.headArg)
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

-- Forwarding: per node, its events of this call as one inbox entry (in
-- several past inboxEntryMaxFields), in the order accepted.
local inboxEntryMaxFields = 4000 -- INBOX_ENTRY_MAX_FIELDS: unpack() stops below 8000
local inboxMaxEvents = tonumber(inboxMaxLen)
local inboxes = {}
local inboxList = {}
local function writeInbox(inbox)
  if inbox.events > 0 then
    local maxLen = math.max(1, math.ceil(inboxMaxEvents / inbox.events))
    redis.call('XADD', inbox.key, 'MAXLEN', '~', maxLen, '*', unpack(inbox.fields))
    inbox.fields = {}
    inbox.events = 0
  end
end

local forwards = {}
for r = 1, #accepted do
  local item = accepted[r]
  local seq = item[1]
  local user = item[3]
  local chunk = item[5]
  local seqArg = item[9]
  local frame = item[8] or frameOf(seqArg, item[10], item[2])
  local epoch = user.epoch or ''
  local nodes = user.nodes
  if forwarding then
    -- Inbox fields u, s, f, e in this order, then r, n, k for appends
    -- (InboxField; the edge reads them by position).
    for n = 1, #nodes do
      local inbox = inboxes[nodes[n]]
      if inbox == nil then
        inbox = { key = inboxPrefix .. nodes[n] .. inboxSuffix, fields = {}, events = 0 }
        inboxes[nodes[n]] = inbox
        inboxList[#inboxList + 1] = inbox
      end
      local fields = inbox.fields
      local k = #fields
      fields[k + 1] = 'u'
      fields[k + 2] = user.userId
      fields[k + 3] = 's'
      fields[k + 4] = seqArg or '0'
      fields[k + 5] = 'f'
      fields[k + 6] = frame
      fields[k + 7] = 'e'
      fields[k + 8] = epoch
      if chunk > 0 then
        fields[k + 9] = 'r'
        fields[k + 10] = item[6]
        fields[k + 11] = 'n'
        fields[k + 12] = item[7]
        fields[k + 13] = 'k'
        fields[k + 14] = item[10]
      end
      inbox.events = inbox.events + 1
      if #fields >= inboxEntryMaxFields then
        writeInbox(inbox)
      end
    end
    if seq > 0 and not user.reported then
      user.reported = true
      forwards[#forwards + 1] = item[4]
      forwards[#forwards + 1] = user.userId
    end
  else
    forwards[#forwards + 1] = item[4]
    forwards[#forwards + 1] = seq
    forwards[#forwards + 1] = frame
    forwards[#forwards + 1] = epoch
    forwards[#forwards + 1] = user.userId
    forwards[#forwards + 1] = chunk
    forwards[#forwards + 1] = item[6]
    forwards[#forwards + 1] = item[7]
    forwards[#forwards + 1] = #nodes
    for n = 1, #nodes do
      forwards[#forwards + 1] = nodes[n]
    end
  end
end

for i = 1, #inboxList do
  writeInbox(inboxList[i])
end

-- In slices: unpack has a stack limit.
for a = 1, #acks do
  local ids = acks[a][2]
  for from = 1, #ids, 1000 do
    redis.call('XACK', acks[a][1], group, unpack(ids, from, math.min(from + 999, #ids)))
  end
end

return { shardResults, statuses, forwards, reads }
