--[[
  Records that the "not acknowledged" webhook covered the user's critical
  events up to seq, so they are reported once. Like record-acks, it never
  writes to a history that no longer exists.

  Input:
    KEYS[1]  user meta hash (epoch, seq, acked, notified)
    ARGV[1]  seq reported
    ARGV[2]  epoch the seq belongs to

  Output: 1 when recorded, 0 when the history changed meanwhile.
]]
local metaKey = KEYS[1]
local seq = tonumber(ARGV[1])
local epoch = ARGV[2]

if redis.call('HGET', metaKey, 'epoch') ~= epoch then
  return 0
end
redis.call('HSET', metaKey, 'notified', seq)
return 1
