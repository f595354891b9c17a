--[[
  Removes one connection of this node from a user's routes.

  Input:
    KEYS[1]  user routes hash (nodeId -> connection count)
    ARGV[1]  node id

  Output: the node's remaining connection count for the user.
]]
local routesKey = KEYS[1]
local nodeId = ARGV[1]

local left = redis.call('HINCRBY', routesKey, nodeId, -1)
if left <= 0 then
  redis.call('HDEL', routesKey, nodeId)
  return 0
end
return left
