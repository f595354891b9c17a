--[[
  Extends a lease only while the caller still holds exactly this value.

  Input:
    KEYS[1]  lease key
    ARGV[1]  lease value held ("owner|token")
    ARGV[2]  ttl (ms)

  Output: 1 renewed, 0 lost.
]]
local leaseKey = KEYS[1]
local value = ARGV[1]
local ttl = tonumber(ARGV[2])

if redis.call('GET', leaseKey) == value then
  redis.call('PEXPIRE', leaseKey, ttl)
  return 1
end
return 0
