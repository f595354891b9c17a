--[[
  Records that a connection of the user processed every critical event up to
  seq (a cumulative ack). The user's acked position only grows, never passes
  the newest seq, and is never written to a history that no longer exists
  (so an ack cannot create a meta hash without its TTL).

  Input:
    KEYS[1]  user meta hash (epoch, seq, acked, notified)
    ARGV[1]  acknowledged seq

  Output: 1 when the position moved, 0 otherwise.
]]
local metaKey = KEYS[1]
local seq = tonumber(ARGV[1])

local meta = redis.call('HMGET', metaKey, 'seq', 'acked')
if not meta[1] or seq > tonumber(meta[1]) then
  return 0
end
if meta[2] and tonumber(meta[2]) >= seq then
  return 0
end
redis.call('HSET', metaKey, 'acked', seq)
return 1
