--[[
  Gives a lease up, only while the caller still holds exactly this value.

  Input:
    KEYS[1]  lease key
    ARGV[1]  lease value held ("owner|token")

  Output: 1 released, 0 not held.
]]
local leaseKey = KEYS[1]
local value = ARGV[1]

if redis.call('GET', leaseKey) == value then
  redis.call('DEL', leaseKey)
  return 1
end
return 0
