--[[
  Appends a request's entries of one shard to the shard's ingest stream, in
  order. One call replaces one XADD per event: the edge then builds one
  command (and one promise) per shard and request instead of one per event,
  which is where its CPU went (ingest-stream.ts, appendToIngest). The stored
  entries are exactly what XADD per event stored.

  A failure part-way leaves the entries before it appended: the edge answers
  503, the producer retries with the same ids and the sequencer dedupes them.

  Input:
    KEYS[1]  the shard's ingest stream
    ARGV     the entries, each as its field count F (field names and values,
             so an even number) followed by the F fields of the entry, e.g.
             8 i <id> u <userId> c 1 b <body>

  Output: the number of entries appended.
]]
local stream = KEYS[1]

local i = 1
local last = #ARGV
local appended = 0
while i <= last do
  local fields = tonumber(ARGV[i])
  redis.call('XADD', stream, '*', unpack(ARGV, i + 1, i + fields))
  i = i + fields + 1
  appended = appended + 1
end
return appended
