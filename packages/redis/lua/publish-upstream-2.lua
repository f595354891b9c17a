--[[
  Appends a client's upstream message once per idempotency key.

  Input:
    KEYS[1]  upstream stream
    KEYS[2]  idempotency key of (user, message id)
    ARGV[1]  idempotency window (ms)
    ARGV[2]  stream approximate max length
    ARGV[3+] field, value pairs of the entry

  Output: {entryId, 1} when appended, {entryId, 0} when already appended before.
]]
local streamKey = KEYS[1]
local idemKey = KEYS[2]
local windowMs = tonumber(ARGV[1])
local maxLen = ARGV[2]

local existing = redis.call('GET', idemKey)
if existing then
  return {existing, 0}
end
local fields = {}
for i = 3, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
local id = redis.call('XADD', streamKey, 'MAXLEN', '~', maxLen, '*', unpack(fields))
redis.call('SET', idemKey, id, 'PX', windowMs)
return {id, 1}
