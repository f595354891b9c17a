--[[
  Appends a request's entries to their shards' ingest streams, in order. One
  call replaces one XADD per event: the edge then builds one command (and one
  promise) per request instead of one per event, which is where its CPU went
  (ingest-stream.ts, appendToIngest). The stored entries are exactly what
  XADD per event stored.

  On a single Redis one call holds every shard of a request (measured: at
  10 events per request over 16 shards, one call per shard was 8 calls per
  request). On a Redis Cluster a call holds one shard: KEYS[1] routes it and
  is its only stream.

  Field names come once per call, not once per entry: every entry stores a
  prefix of the same field list, so an entry sends only its values: half the
  arguments for the edge to write (measured: about a quarter less edge CPU
  per event than name/value pairs, the same Redis CPU).

  A failure part-way leaves the entries before it appended: the edge answers
  503, the producer retries with the same ids and the sequencer dedupes them.

  Input:
    KEYS[1]  the first stream of the call (routes it)
    ARGV[1]  number of field names N
    ARGV[2 .. N+1]  the field names, in the order entries give their values
    then per stream part: the stream key, its entry count E, then E entries,
             each its value count V (1..N) and its V values, stored as the
             first V field names with these values

  Output: the number of entries appended.
]]
local names = tonumber(ARGV[1])

-- One XADD argument list, reused: names at even places, each entry's values after them.
local xadd = { 'XADD', KEYS[1], '*' }
for j = 1, names do
  xadd[2 + 2 * j] = ARGV[1 + j]
end

local i = names + 2
local last = #ARGV
local appended = 0
while i <= last do
  xadd[2] = ARGV[i]
  local entries = tonumber(ARGV[i + 1])
  i = i + 2
  for _ = 1, entries do
    local values = tonumber(ARGV[i])
    for j = 1, values do
      xadd[3 + 2 * j] = ARGV[i + j]
    end
    redis.call(unpack(xadd, 1, 3 + 2 * values))
    i = i + values + 1
  end
  appended = appended + entries
end
return appended
