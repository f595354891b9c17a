--[[
  Reads one page of a user's retained critical events for GET /v1/history
  (protocol.md section 10), with the position fields of a welcome, in one
  atomic step so that the page and latestSeq agree. Read-only: unlike
  open-session it neither registers a route nor creates a history.

  Input:
    KEYS[1]  user meta hash (epoch, seq)
    KEYS[2]  user log stream (ids "<seq>-0")
    ARGV[1]  the client's position `after` (0 = everything retained)
    ARGV[2]  the client's epoch, or '' when absent
    ARGV[3]  page size (events)
    ARGV[4]  page byte budget: the page stops after the event that reaches
             it (so it always holds at least one event when any is due)

  Output:
    {epoch ('' when the user has no history), latestSeq, oldestSeq,
     resumed (1/0), seq, frame, seq, frame, ...}
    Resume rules as open-session: another epoch -> resumed 0, from oldestSeq;
    after > latestSeq -> resumed 0, nothing; after + 1 < oldestSeq ->
    resumed 0, from oldestSeq; otherwise from after + 1.
]]
local metaKey = KEYS[1]
local logKey = KEYS[2]
local after = tonumber(ARGV[1])
local clientEpoch = ARGV[2]
local pageSize = tonumber(ARGV[3])
local maxBytes = tonumber(ARGV[4])
-- Entries are read in small slices, so a large page never sits in memory twice.
local slice = 50

local meta = redis.call('HMGET', metaKey, 'epoch', 'seq')
local epoch = meta[1] or ''
local latest = tonumber(meta[2] or '0')
local oldest = 0
local first = redis.call('XRANGE', logKey, '-', '+', 'COUNT', 1)
if #first > 0 then
  oldest = tonumber(string.match(first[1][1], '^(%d+)'))
end

local resumed = 1
local from = 0
if epoch ~= '' and clientEpoch ~= '' and clientEpoch ~= epoch then
  resumed = 0
  from = oldest
elseif after > latest then
  resumed = 0
elseif after + 1 < oldest then
  resumed = 0
  from = oldest
elseif after < latest then
  from = after + 1
end

local out = {epoch, latest, oldest, resumed}
if from > 0 and pageSize > 0 then
  local count = 0
  local bytes = 0
  local start = from .. '-0'
  while count < pageSize and bytes < maxBytes do
    local page = redis.call('XRANGE', logKey, start, latest .. '-0', 'COUNT', math.min(slice, pageSize - count))
    if #page == 0 then
      break
    end
    for i = 1, #page do
      local seq = tonumber(string.match(page[i][1], '^(%d+)'))
      local frame = page[i][2][2]
      out[#out + 1] = seq
      out[#out + 1] = frame
      count = count + 1
      bytes = bytes + #frame
      start = (seq + 1) .. '-0'
      if bytes >= maxBytes then
        break
      end
    end
  end
end
return out
