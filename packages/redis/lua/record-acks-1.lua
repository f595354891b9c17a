--[[
  Records the acknowledged positions of several users of one shard (each a
  cumulative ack: a connection of the user processed every critical event up
  to seq). One call per shard and flush, not one per user: the edge writes
  every position that moved in an interval at once.

  Per user, the acked position only grows, never passes the user's newest
  seq (such a position is ignored, not clamped), and is never written to a
  history that no longer exists (so an ack cannot create a meta hash without
  its TTL).

  Every meta key of a call lives in the shard's slot ({sN}): KEYS[1] routes
  the call on a Redis Cluster, the other keys come in ARGV.

  Input:
    KEYS[1]  meta hash of one user of the call, e.g. the first (routes it)
    ARGV     pairs, one per user: user meta hash (epoch, seq, acked,
             notified), acknowledged seq

  Output: how many positions moved.
]]
local moved = 0

for i = 1, #ARGV, 2 do
  local metaKey = ARGV[i]
  local seq = tonumber(ARGV[i + 1])
  local meta = redis.call('HMGET', metaKey, 'seq', 'acked')
  if meta[1] and seq <= tonumber(meta[1]) and not (meta[2] and tonumber(meta[2]) >= seq) then
    redis.call('HSET', metaKey, 'acked', seq)
    moved = moved + 1
  end
end

return moved
