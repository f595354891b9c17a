--[[
  Reads one run for a snapshot (protocol.md section 9): its status, times
  and the text of each stream, in one atomic step, so that every stream's
  text holds exactly its chunks 1..chunks (the sequencer writes a run's
  chunks and texts in one script too). Read-only.

  Input:
    KEYS[1]  the run's hash (see persist-batch-1.lua)
    ARGV[1]  run id
    ARGV[2]  text key before the stream name (base..'t|'..userId..'|')
    ARGV[3]  text key after the stream name ('|'..runId)

  Output: {} when the run is not retained, else one run record:
    {runId, status, started, updated, streamCount,
     then per stream: name, chunks, truncated (1/0), text}
]]
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then
  return {}
end
local record = { ARGV[1], 'running', 0, 0, 0 }
local streams = {}
local truncated = {}
for i = 1, #fields, 2 do
  local name = fields[i]
  if name == 'status' then
    record[2] = fields[i + 1]
  elseif name == 'started' then
    record[3] = fields[i + 1]
  elseif name == 'updated' then
    record[4] = fields[i + 1]
  elseif string.sub(name, 1, 2) == 'c:' then
    streams[#streams + 1] = { string.sub(name, 3), fields[i + 1] }
  elseif string.sub(name, 1, 2) == 'x:' then
    truncated[string.sub(name, 3)] = true
  end
end
record[5] = #streams
for s = 1, #streams do
  local stream = streams[s][1]
  record[#record + 1] = stream
  record[#record + 1] = streams[s][2]
  record[#record + 1] = truncated[stream] and 1 or 0
  record[#record + 1] = redis.call('GET', ARGV[2] .. stream .. ARGV[3]) or ''
end
return record
