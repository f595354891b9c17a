--[[
  Takes a shard lease when it is free (or renews it when already ours) and
  returns its fencing token. A new holder always gets a larger token.

  Input:
    KEYS[1]  lease key ("owner|token")
    KEYS[2]  fencing counter
    ARGV[1]  owner id
    ARGV[2]  ttl (ms)

  Output: {token, takenOver (1 when the lease was free and is now ours)} or {0, 0} when held by another.
]]
local leaseKey = KEYS[1]
local fenceKey = KEYS[2]
local owner = ARGV[1]
local ttl = tonumber(ARGV[2])

local current = redis.call('GET', leaseKey)
if current then
  local sep = string.find(current, '|', 1, true)
  if string.sub(current, 1, sep - 1) == owner then
    redis.call('PEXPIRE', leaseKey, ttl)
    return {tonumber(string.sub(current, sep + 1)), 0}
  end
  return {0, 0}
end
local token = redis.call('INCR', fenceKey)
redis.call('SET', leaseKey, owner .. '|' .. token, 'PX', ttl)
return {token, 1}
