/**
 * The Lua scripts of the Redis cluster: each change to shared state is one
 * atomic script. Keys (all under the prefix `p`):
 *   p:u:<nick>        node holding the (folded) nick, with a lease (PX)
 *   p:n:<node>        the node's heartbeat, with a lease
 *   p:n:<node>:u      the node's folded nicks (set)
 *   p:n:<node>:m      the node's memberships, "<channel key>\n<nick>" (set)
 *   p:n:<node>:i      what the node advertised (hash; e.g. its voice relay's node-to-node address)
 *   p:nodes           nodes that announced themselves (set)
 *   p:c:<key>:name    a channel's spelling
 *   p:c:<key>:m       its members (sorted set, score = join sequence)
 *   p:c:<key>:n       its members' nodes (hash nick -> node)
 *   p:seq             the join sequence
 * Every script takes no KEYS (the prefix comes in ARGV[1]): one Redis, not Redis Cluster.
 */

/** ARGV: p, nickKey, node, leaseMs. Returns 1 when claimed. */
export const CLAIM = `
local p, f, node = ARGV[1], ARGV[2], ARGV[3]
if redis.call('SET', p..':u:'..f, node, 'NX', 'PX', ARGV[4]) then
  redis.call('SADD', p..':n:'..node..':u', f)
  return 1
end
return 0`;

/** ARGV: p, nickKey, node. Compare-and-delete: only the holder frees a nick. */
export const RELEASE = `
local p, f, node = ARGV[1], ARGV[2], ARGV[3]
redis.call('SREM', p..':n:'..node..':u', f)
if redis.call('GET', p..':u:'..f) == node then return redis.call('DEL', p..':u:'..f) end
return 0`;

/** ARGV: p, channelKey, spelling, nick, node. Returns { spelling, already (0/1), members in join order }. */
export const JOIN = `
local p, f, name, nick, node = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ck = p..':c:'..f
redis.call('SET', ck..':name', name, 'NX')
local already = 1
if not redis.call('ZSCORE', ck..':m', nick) then
  already = 0
  redis.call('ZADD', ck..':m', redis.call('INCR', p..':seq'), nick)
  redis.call('HSET', ck..':n', nick, node)
  redis.call('SADD', p..':n:'..node..':m', f..'\\n'..nick)
end
return { redis.call('GET', ck..':name'), already, redis.call('ZRANGE', ck..':m', 0, -1) }`;

/** Lua helper: removes nick from channel f if node holds it there; returns the spelling or false. */
const REMOVE_FN = `
local function remove(p, f, nick, node)
  local ck = p..':c:'..f
  if redis.call('HGET', ck..':n', nick) ~= node then return false end
  local name = redis.call('GET', ck..':name')
  redis.call('ZREM', ck..':m', nick)
  redis.call('HDEL', ck..':n', nick)
  if redis.call('ZCARD', ck..':m') == 0 then redis.call('DEL', ck..':name', ck..':n', ck..':m') end
  return name
end
local function split(e)
  local i = string.find(e, '\\n', 1, true)
  return string.sub(e, 1, i - 1), string.sub(e, i + 1)
end`;

/** ARGV: p, channelKey, nick, node. Returns 1 when removed. */
export const LEAVE = `${REMOVE_FN}
local p, f, nick, node = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('SREM', p..':n:'..node..':m', f..'\\n'..nick)
if remove(p, f, nick, node) then return 1 end
return 0`;

/** Drops every trace of one node; appends { key, spelling, nick } per removed membership to out. */
const DROP_FN = `
local function drop(p, id, out)
  for _, e in ipairs(redis.call('SMEMBERS', p..':n:'..id..':m')) do
    local f, nick = split(e)
    local name = remove(p, f, nick, id)
    if name then table.insert(out, f); table.insert(out, name); table.insert(out, nick) end
  end
  for _, f in ipairs(redis.call('SMEMBERS', p..':n:'..id..':u')) do
    if redis.call('GET', p..':u:'..f) == id then redis.call('DEL', p..':u:'..f) end
  end
  redis.call('DEL', p..':n:'..id..':m', p..':n:'..id..':u', p..':n:'..id..':i', p..':n:'..id)
  redis.call('SREM', p..':nodes', id)
end`;

/** ARGV: p, node, leaseMs. Refreshes the node's heartbeat and its nick leases. */
export const BEAT = `
local p, node, lease = ARGV[1], ARGV[2], ARGV[3]
redis.call('SET', p..':n:'..node, '1', 'PX', lease)
redis.call('SADD', p..':nodes', node)
for _, f in ipairs(redis.call('SMEMBERS', p..':n:'..node..':u')) do
  if redis.call('GET', p..':u:'..f) == node then redis.call('PEXPIRE', p..':u:'..f, lease) end
end
return 1`;

/**
 * ARGV: p. Drops every node whose heartbeat expired; returns { node, key, spelling, nick, ... },
 * each dropped node's memberships followed by { node, '', '', '' }.
 */
export const REAP = `${REMOVE_FN}${DROP_FN}
local p = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', p..':nodes')) do
  if redis.call('EXISTS', p..':n:'..id) == 0 then
    local mine = {}
    drop(p, id, mine)
    for i = 1, #mine, 3 do
      table.insert(out, id); table.insert(out, mine[i]); table.insert(out, mine[i + 1]); table.insert(out, mine[i + 2])
    end
    table.insert(out, id); table.insert(out, ''); table.insert(out, ''); table.insert(out, '')
  end
end
return out`;

/** ARGV: p, node. A graceful leave: drops the node now; returns { key, spelling, nick, ... }. */
export const GOODBYE = `${REMOVE_FN}${DROP_FN}
local out = {}
drop(ARGV[1], ARGV[2], out)
return out`;

/**
 * ARGV: p, node, leaseMs, nUsers, nickKey x nUsers, then pairs (membership entry, spelling).
 * Makes Redis hold exactly this node's users and memberships (after Redis was
 * restarted or unreachable). Returns { conflicts (nick keys held by another
 * node), removed { key, spelling, nick ... }, added { key, spelling, nick ... } }.
 */
export const SYNC = `${REMOVE_FN}
local p, node, lease = ARGV[1], ARGV[2], ARGV[3]
local nu = tonumber(ARGV[4])
local uk, mk = p..':n:'..node..':u', p..':n:'..node..':m'
local conflicts, removed, added = {}, {}, {}
local wantu = {}
for i = 5, 4 + nu do
  local f = ARGV[i]
  local cur = redis.call('GET', p..':u:'..f)
  if cur == false or cur == node then
    redis.call('SET', p..':u:'..f, node, 'PX', lease)
    wantu[f] = true
  else
    table.insert(conflicts, f)
  end
end
for _, f in ipairs(redis.call('SMEMBERS', uk)) do
  if not wantu[f] and redis.call('GET', p..':u:'..f) == node then redis.call('DEL', p..':u:'..f) end
end
redis.call('DEL', uk)
for f in pairs(wantu) do redis.call('SADD', uk, f) end
local wantm = {}
for i = 5 + nu, #ARGV, 2 do wantm[ARGV[i]] = ARGV[i + 1] end
for _, e in ipairs(redis.call('SMEMBERS', mk)) do
  if not wantm[e] then
    local f, nick = split(e)
    local name = remove(p, f, nick, node)
    if name then table.insert(removed, f); table.insert(removed, name); table.insert(removed, nick) end
  end
end
redis.call('DEL', mk)
for e, name in pairs(wantm) do
  local f, nick = split(e)
  local ck = p..':c:'..f
  if redis.call('HGET', ck..':n', nick) ~= node then
    redis.call('SET', ck..':name', name, 'NX')
    redis.call('ZADD', ck..':m', redis.call('INCR', p..':seq'), nick)
    redis.call('HSET', ck..':n', nick, node)
    table.insert(added, f); table.insert(added, redis.call('GET', ck..':name')); table.insert(added, nick)
  end
  redis.call('SADD', mk, e)
end
redis.call('SET', p..':n:'..node, '1', 'PX', lease)
redis.call('SADD', p..':nodes', node)
return { conflicts, removed, added }`;
