/**
 * The Redis store's Lua: a library of shared helpers and one script per operation, each sent as
 * `EVALSHA` by its SHA-1 (and `EVAL` on `NOSCRIPT`). A script carries only the helpers it uses.
 * @module
 * @internal
 */
import { sha1 } from '@noble/hashes/legacy';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/**
 * Challenge, step-up and send-quota keys expire (server clock) this long after their record dies
 * (caller's clock): the decision is always the caller's `now`; the TTL only clears what is
 * surely dead.
 */
export const GRACE_MS = 300_000;
/** A user's step-up tokens beyond this many: a success drops the expired ones. */
const STEP_UP_PRUNE_AT = 16;

// Shared helpers. HOTP counters are compared as canonical decimal STRINGS: Lua numbers are
// doubles and cannot hold 2^64 − 1 (and `<` on strings would follow the server's locale). Steps,
// times and counts are safe integers (< 2^53), exact in a double.
const LUA_LIB = `
local U64 = '18446744073709551615'
local SAFE = 9007199254740991
local NUL = string.char(0)
local function canon(s, max)
  return type(s) == 'string' and #s >= 1 and #s <= max and (s == '0' or string.find(s, '^[1-9][0-9]*$') ~= nil)
end
local function lt(a, b)
  if #a ~= #b then return #a < #b end
  for i = 1, #a do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return false
end
-- A safe integer from what a pattern captured as [0-9]+ (no sign, space or exponent left to
-- refuse; nil when it did not match), without a second pattern: records are parsed on every call.
local function nat(s)
  if not s or #s > 16 or (#s > 1 and string.byte(s) == 48) then return nil end
  local n = tonumber(s)
  if n > SAFE then return nil end
  return n
end
local function uint(s)
  if not canon(s, 16) then return nil end
  return nat(s)
end
local function counter(s) return canon(s, 20) and not (#s == 20 and lt(U64, s)) end
local function int(n) return string.format('%.0f', n + 0) end
local function jstr(s) return #s >= 2 and string.byte(s, 1) == 34 and string.byte(s, -1) == 34 end
local function corrupt(what) return redis.error_reply('OTPKIT_CORRUPT ' .. what) end
local function split(v)
  local parts, i = {}, 1
  while true do
    local j = string.find(v, NUL, i, true)
    if not j then parts[#parts + 1] = string.sub(v, i) return parts end
    parts[#parts + 1] = string.sub(v, i, j - 1)
    i = j + 1
  end
end
-- The name of the first named key (names[i] for KEYS[i]) that is neither absent nor a hash. A
-- key a script reads before any write needs no name (the read fails with WRONGTYPE first, which
-- the store reports as corrupt); one it writes unread must be named.
local function wrongType(names)
  for i = 1, #KEYS do
    if names[i] then
      local t = redis.call('TYPE', KEYS[i])['ok']
      if t ~= 'none' and t ~= 'hash' then return names[i] end
    end
  end
  return nil
end
-- failures:lastFailureAt
local function bucket(v)
  if not v then return 0, 0 end
  local f, t = string.match(v, '^([0-9]+):([0-9]+)$')
  f, t = nat(f), nat(t)
  if not f or not t then return nil end
  return f, t
end
local function gate(f, last, now, free, base, maxd, maxf)
  if f >= maxf then return false end
  local first = free
  if first == 0 then first = 1 end
  if f < first then return true end
  local e = f - first
  if e > 30 then e = 30 end
  local d = math.min(maxd, base * 2 ^ e)
  return d == 0 or now - last >= d
end
-- lastStep:hotpCounter:drift:lastUsedAt, '' for null. {} if missing, nil if corrupt.
local function cred(v)
  if not v then return {} end
  local s, c, d, u = string.match(v, '^([0-9]*):([0-9]*):([-0-9]+):([0-9]*)$')
  if not s then return nil end
  local r = {}
  if s ~= '' then r.step = nat(s) if not r.step then return nil end end
  if c ~= '' then if not counter(c) then return nil end r.counter = c end
  if d ~= '0' and not string.find(d, '^%-?[1-9][0-9]?$') then return nil end
  r.drift = tonumber(d)
  if r.drift < -10 or r.drift > 10 then return nil end
  if u ~= '' then r.used = nat(u) if not r.used then return nil end end
  return r
end
local function credText(step, ctr, drift, used)
  return (step and int(step) or '') .. ':' .. (ctr or '') .. ':' .. int(drift) .. ':' .. (used and int(used) or '')
end
local function hex64(s) return #s == 64 and string.find(s, '^[0-9a-f]+$') ~= nil end
-- createdAt:expiresAt:attempts:maxAttempts:seq NUL scope NUL recoveryScope NUL payload NUL oob
-- NUL credential id..., where oob is '' or expiresAt:codeHash:factorId
local function challenge(v)
  local p = split(v)
  if #p < 5 or #p > 25 then return nil end
  local a, b, c, d, e = string.match(p[1], '^([0-9]+):([0-9]+):([0-9]+):([0-9]+):([0-9]+)$')
  local r = { created = nat(a), expires = nat(b), attempts = nat(c), max = nat(d), seq = nat(e), parts = p }
  if not (r.created and r.expires and r.attempts and r.max and r.seq) then return nil end
  if r.max < 1 or r.max > 100 or r.attempts > 100 or #p[2] == 0 or #p[3] == 0 or not jstr(p[4]) then return nil end
  if p[5] ~= '' then
    local x, h, f = string.match(p[5], '^([0-9]+):([0-9a-f]+):(.+)$')
    r.oobExpires = nat(x)
    if not r.oobExpires or not hex64(h) then return nil end
    r.oobHash = h
  end
  for i = 6, #p do if #p[i] == 0 then return nil end end
  return r
end
local function challengeText(r)
  r.parts[1] = int(r.created) .. ':' .. int(r.expires) .. ':' .. int(r.attempts) .. ':' .. int(r.max) .. ':' .. int(r.seq)
  return table.concat(r.parts, NUL)
end
-- { { setId, issuedAt, total }, { id, position:hash, ... } } of the current set. false: none; nil: corrupt.
local function readSet(ci, si)
  local m = redis.call('HMGET', KEYS[si], 'setId', 'issuedAt', 'total')
  local codes = redis.call('HGETALL', KEYS[ci])
  if not m[1] then
    if m[2] or m[3] or #codes > 0 then return nil end
    return false
  end
  local total = uint(m[3])
  if #m[1] > 64 or not string.find(m[1], '^[A-Za-z0-9_-]+$') or not uint(m[2]) or not total or total > 100 or #codes / 2 > total then return nil end
  for i = 2, #codes, 2 do
    local pos = nat(string.match(codes[i], '^([0-9]+):.'))
    if not pos or pos >= total then return nil end
  end
  return { { m[1], m[2], m[3] }, codes }
end
-- seq:type:status:algorithm:digits:period:createdAt:confirmedAt:expiresAt NUL label NUL sealed
-- NUL hint (label, sealed secret and hint as JSON strings, the hint '' for none)
local TYPES = { totp = true, hotp = true, email = true, sms = true }
local ALGS = { SHA1 = true, SHA256 = true, SHA512 = true }
local function factor(v)
  local p = split(v)
  if #p ~= 4 or #p[2] < 3 or not jstr(p[2]) or not jstr(p[3]) or (p[4] ~= '' and not jstr(p[4])) then return nil end
  local q, ty, st, alg, dig, per, ca, cf, ex = string.match(p[1], '^([0-9]+):([a-z]+):([a-z]+):([A-Z0-9]+):([0-9]+):([0-9]+):([0-9]+):([0-9]*):([0-9]*)$')
  local r = { seq = nat(q), type = ty, status = st, alg = alg, digits = nat(dig), period = nat(per), created = nat(ca), parts = p }
  if not (r.seq and r.digits and r.period and r.created) or not TYPES[ty] or not ALGS[alg] then return nil end
  if p[4] ~= '' and (ty == 'totp' or ty == 'hotp') then return nil end
  if r.digits < 6 or r.digits > 8 or r.period < 1 or r.period > 120 then return nil end
  if cf ~= '' then r.confirmed = nat(cf) if not r.confirmed then return nil end end
  if ex ~= '' then r.expires = nat(ex) if not r.expires then return nil end end
  if st == 'pending' then
    if not r.expires or r.confirmed then return nil end
  elseif st ~= 'confirmed' or r.expires or not r.confirmed then
    return nil
  end
  return r
end
local function factorText(r, status, confirmed, expires, label, sealed)
  return int(r.seq) .. ':' .. r.type .. ':' .. status .. ':' .. r.alg .. ':' .. int(r.digits) .. ':' .. int(r.period) .. ':' ..
    int(r.created) .. ':' .. (confirmed and int(confirmed) or '') .. ':' .. (expires and int(expires) or '') .. NUL .. label .. NUL .. sealed .. NUL .. r.parts[4]
end
-- seq:kind:createdAt:lastUsedAt:expiresAt NUL tokenHash NUL previousHash ('' none) NUL label (JSON).
-- The shape of every record read is checked (the numbers, the kind, the hashes' lengths, the
-- label's quotes), with plain searches rather than patterns over the hashes: a user may keep up
-- to 100 of each kind (20 known by default), and all of them are read. The hashes' digits are
-- not: a stored hash is only ever compared with one this store computed (equal means hex) or
-- handed to the client, which checks it in full.
local function device(v)
  local q, kind, ca, lu, ex, at = string.match(v, '^([0-9]+):([a-z]+):([0-9]+):([0-9]*):([0-9]+)%z()')
  if not at or (kind ~= 'trusted' and kind ~= 'known') then return nil end
  local prev, label = at + 65, at + 65
  if string.find(v, NUL, at, true) ~= at + 64 then return nil end
  if string.byte(v, prev) ~= 0 then
    label = prev + 64
    if string.find(v, NUL, prev, true) ~= label then return nil end
  end
  if string.find(v, NUL, label + 1, true) or not jstr(string.sub(v, label + 1)) then return nil end
  local r = { seq = nat(q), kind = kind, created = nat(ca), expires = nat(ex), at = at, label = label, v = v }
  if not (r.seq and r.created and r.expires) then return nil end
  if lu ~= '' then r.used = nat(lu) if not r.used then return nil end end
  return r
end
local function deviceToken(r) return string.sub(r.v, r.at, r.at + 63) end
local function devicePrevious(r) return string.sub(r.v, r.at + 65, r.label - 1) end
-- The order in which records give way: created first, inserted first on a tie.
local function olderFirst(a, b)
  if a.created ~= b.created then return a.created < b.created end
  return a.seq < b.seq
end
-- Every device of the key (each with its id), or nil if one is corrupt: read before any write.
local function readDevices(key)
  local all = redis.call('HGETALL', key)
  local list = {}
  for i = 1, #all, 2 do
    local r = device(all[i + 1])
    if not r then return nil end
    r.id = all[i]
    list[#list + 1] = r
  end
  return list
end
-- Stores the device id (its record without the seq) as createDevice does, given readDevices'
-- list: dead devices of the kind and the oldest live ones beyond max − 1 give way (ties: the
-- older insertion first); an id the user already has keeps its place in the order. (The oldest
-- are picked one at a time: at most a few give way, and a sort with a Lua comparator costs more.)
local function putDevice(key, list, id, kind, created, max, text)
  local live, top, seq = {}, 0, nil
  for _, r in ipairs(list) do
    if r.kind == kind and r.expires <= created then
      redis.call('HDEL', key, r.id)
    else
      if r.kind == kind then live[#live + 1] = r end
      if r.seq > top then top = r.seq end
      if r.id == id then seq = r.seq end
    end
  end
  for _ = 1, #live - (max - 1) do
    local o = 1
    for i = 2, #live do if olderFirst(live[i], live[o]) then o = i end end
    local r = table.remove(live, o)
    redis.call('HDEL', key, r.id)
    if r.id == id then seq = nil end
  end
  redis.call('HSET', key, id, int(seq or top + 1) .. ':' .. text)
end
-- A device-token use, read only: in insertion order, the first device of the kind whose live
-- token it is ('rotated' and the device), one whose replaced token it is ('replayed'), or
-- 'unknown'; nil for a corrupt record.
local function findDevice(key, kind, token, now)
  local list = readDevices(key)
  if not list then return nil end
  local found, status = nil, 'unknown'
  for _, r in ipairs(list) do
    if r.kind == kind and (not found or r.seq < found.seq) then
      if deviceToken(r) == token and r.expires > now then
        found, status = r, 'rotated'
      elseif devicePrevious(r) == token then -- '' without one, never a token
        found, status = r, 'replayed'
      end
    end
  end
  return status, found
end
-- Rotates the device findDevice found: the new token, the old one as previous, used now, the new
-- expiry (nil: kept). Returns the reply rotateDevice gives.
local function rotateFound(key, r, token, newHash, now, expires)
  local text = int(r.seq) .. ':' .. r.kind .. ':' .. int(r.created) .. ':' .. int(now) .. ':' .. int(expires or r.expires) ..
    NUL .. newHash .. NUL .. token .. string.sub(r.v, r.label)
  redis.call('HSET', key, r.id, text)
  return { 'rotated', r.id, text }
end
-- window:count:lastAt of a send quota
local function quota(v)
  local w, c, l = string.match(v, '^([0-9]+):([0-9]+):([0-9]+)$')
  w, c, l = nat(w), nat(c), nat(l)
  if not (w and c and l) then return nil end
  return w, c, l
end
`;

/** A Lua script and its SHA-1 (what `EVALSHA` names it by). */
export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

/** LUA_LIB's top-level definitions, each with the name it defines. */
const LUA_DEFS: readonly { readonly name: string; readonly text: string }[] =
  /* @__PURE__ */ LUA_LIB.trim()
    .split(/\n(?=local |-- )/)
    .reduce<{ name: string; text: string }[]>((defs, text) => {
      const name = /^local (?:function )?([A-Za-z0-9_]+)/.exec(text)?.[1];
      // A comment belongs to the definition after it.
      const last = defs[defs.length - 1];
      if (last !== undefined && last.name === '') {
        last.name = name ?? '';
        last.text += `\n${text}`;
      } else defs.push({ name: name ?? '', text });
      return defs;
    }, []);

/**
 * A script is the body after the LUA_LIB definitions it uses, directly or through another
 * (running a script runs its whole chunk: unused definitions would cost every call).
 */
function script(name: string, body: string): Script {
  const used = new Set<string>();
  let scan = body;
  for (let grew = true; grew;) {
    grew = false;
    for (const d of LUA_DEFS)
      if (!used.has(d.name) && new RegExp(`\\b${d.name}\\b`).test(scan)) {
        used.add(d.name);
        scan += d.text;
        grew = true;
      }
  }
  const source = `${LUA_DEFS.filter((d) => used.has(d.name))
    .map((d) => d.text)
    .join('\n')}\n${body}`;
  return { name, source, sha: bytesToHex(sha1(utf8ToBytes(source))) };
}

// The hot state. KEYS of a user (one hash tag): throttle, credentials, challenges, recovery
// codes, recovery set, step-up tokens, as each script lists them.

// KEYS: throttle, credentials. ARGV: scope, credential, now, policy (4), step, past, future,
// centre on drift ('1'), maxDrift ('' = none), candidates...
export const ATTEMPT_TOTP: Script = /* @__PURE__ */ script(
  'attemptTotp',
  `-- (No TYPE checks on this hot path: a key of another type fails the HGETs with WRONGTYPE,
-- before any write, which the store reports as corrupt.)
local scope, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local step, past, future = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local f, last = bucket(redis.call('HGET', KEYS[1], scope))
if not f then return corrupt('throttle bucket') end
local c = cred(redis.call('HGET', KEYS[2], id))
if not c then return corrupt('credential') end
if not gate(f, last, now, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])) then
  return { 'closed', f, last }
end
local centre = 0
if ARGV[11] == '1' and c.drift then centre = c.drift end
local lo, hi = math.max(centre - past, -10), math.min(centre + future, 10)
local best
for i = 13, #ARGV do
  local d = tonumber(ARGV[i])
  if d >= lo and d <= hi and step + d >= 0 and (not best or math.abs(d) < math.abs(best)) then best = d end
end
if not best or (c.step and c.step >= step + best) then
  redis.call('HSET', KEYS[1], scope, int(f + 1) .. ':' .. int(now))
  return { best and 'replayed' or 'invalid', f + 1 }
end
local drift = 0
if ARGV[12] ~= '' then
  local m = tonumber(ARGV[12])
  drift = math.max(-m, math.min(m, best))
end
redis.call('HSET', KEYS[2], id, credText(step + best, c.counter, drift, now))
redis.call('HDEL', KEYS[1], scope)
return { 'ok', best }`,
);

// KEYS: throttle, credentials, challenges, recovery codes, recovery set. ARGV: now, policy (4),
// challenge hash ('' = none), scope, recovery set ('1'), credential ids...
export const BEGIN_ATTEMPT: Script = /* @__PURE__ */ script(
  'beginAttempt',
  `-- (No TYPE checks: every key is read before anything is written, and a read of a key of another
-- type fails with WRONGTYPE, which the store reports as corrupt.)
local now, hash, scope, wantSet = tonumber(ARGV[1]), ARGV[6], ARGV[7], ARGV[8] == '1'
local ch
if hash ~= '' then
  local v = redis.call('HGET', KEYS[3], hash)
  if not v then return { 'no-challenge' } end
  ch = challenge(v)
  if not ch then return corrupt('challenge') end
  if ch.expires <= now then
    redis.call('HDEL', KEYS[3], hash)
    return { 'no-challenge' }
  end
  if ch.attempts >= ch.max then return { 'exhausted' } end
  if wantSet then scope = ch.parts[3] else scope = ch.parts[2] end
end
local f, last = bucket(redis.call('HGET', KEYS[1], scope))
if not f then return corrupt('throttle bucket') end
local ids = {}
for i = 9, #ARGV do ids[#ids + 1] = ARGV[i] end
if ch then for i = 6, #ch.parts do ids[#ids + 1] = ch.parts[i] end end
local creds = {}
for _, id in ipairs(ids) do
  local v = redis.call('HGET', KEYS[2], id)
  if v and not cred(v) then return corrupt('credential') end
  creds[#creds + 1] = id
  creds[#creds + 1] = v or false
end
local set = false
if wantSet then
  set = readSet(4, 5)
  if set == nil then return corrupt('recovery-code set') end
end
if not gate(f, last, now, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])) then
  return { 'closed', f, last }
end
redis.call('HSET', KEYS[1], scope, int(f + 1) .. ':' .. int(now))
local text = false
if ch then
  ch.attempts = ch.attempts + 1
  text = challengeText(ch)
  redis.call('HSET', KEYS[3], hash, text)
end
return { 'admitted', f + 1, text, creds, set }`,
);

// KEYS: throttle, credentials, challenges, recovery codes, recovery set, step-up tokens, devices.
// ARGV: scope, now, challenge hash ('' = none), kind, then for totp: credential, step, drift,
// create; hotp: credential, expected ('' = none), next, create; recovery: set id, code id, '',
// ''; oob: code hash, '', '', ''; then step-up hash ('' = none), its expiresAt, its TTL; then a
// device to store with the success as createDevice does: id ('' = none), kind, createdAt, max,
// its record without the seq.
export const SETTLE_ATTEMPT: Script = /* @__PURE__ */ script(
  'settleAttempt',
  `-- The throttle and step-up keys are written unread: their type is checked first. The others are
-- read before anything is written (a key of another type fails that read with WRONGTYPE).
local bad = wrongType({ [1] = 'throttle', [6] = 'step-up tokens', [7] = 'devices' })
if bad then return corrupt(bad .. ' key type') end
local scope, now, hash, kind = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local devices = false
if ARGV[12] ~= '' then
  devices = readDevices(KEYS[7])
  if not devices then return corrupt('device') end
end
local ch
if hash ~= '' then
  local v = redis.call('HGET', KEYS[3], hash)
  if not v then return { 'no-challenge' } end
  ch = challenge(v)
  if not ch then return corrupt('challenge') end
  if ch.expires <= now then
    redis.call('HDEL', KEYS[3], hash)
    return { 'no-challenge' }
  end
end
local remaining = false
if kind == 'oob' then
  if not ch or ch.oobHash ~= ARGV[5] or ch.oobExpires <= now then return { 'replayed' } end
elseif kind == 'recovery' then
  local set = readSet(4, 5)
  if set == nil then return corrupt('recovery-code set') end
  if not set or set[1][1] ~= ARGV[5] or redis.call('HEXISTS', KEYS[4], ARGV[6]) == 0 then return { 'replayed' } end
  redis.call('HDEL', KEYS[4], ARGV[6])
  remaining = redis.call('HLEN', KEYS[4])
else
  local id = ARGV[5]
  local v = redis.call('HGET', KEYS[2], id)
  local c = cred(v)
  if not c then return corrupt('credential') end
  if not v and ARGV[8] ~= '1' then return { 'replayed' } end
  local text
  if kind == 'totp' then
    local step = tonumber(ARGV[6])
    if c.step and c.step >= step then return { 'replayed' } end
    text = credText(step, c.counter, tonumber(ARGV[7]), now)
  else
    if (c.counter or '') ~= ARGV[6] then return { 'replayed' } end
    text = credText(c.step, ARGV[7], c.drift or 0, now)
  end
  redis.call('HSET', KEYS[2], id, text)
end
redis.call('HDEL', KEYS[1], scope)
if hash ~= '' then redis.call('HDEL', KEYS[3], hash) end
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[6], ARGV[9], ARGV[10])
  if redis.call('PTTL', KEYS[6]) < tonumber(ARGV[11]) then redis.call('PEXPIRE', KEYS[6], ARGV[11]) end
  -- Each sign-in adds a token and extends the key's TTL: a user who signs in often would keep
  -- every unused one for ever. Beyond ${STEP_UP_PRUNE_AT}, those expired ${GRACE_MS / 60_000} minutes before now go.
  if redis.call('HLEN', KEYS[6]) > ${STEP_UP_PRUNE_AT} then
    local all = redis.call('HGETALL', KEYS[6])
    for i = 1, #all, 2 do
      local exp = uint(all[i + 1])
      if exp and exp + ${GRACE_MS} < now then redis.call('HDEL', KEYS[6], all[i]) end
    end
  end
end
if devices then putDevice(KEYS[7], devices, ARGV[12], ARGV[13], tonumber(ARGV[14]), tonumber(ARGV[15]), ARGV[16]) end
return { 'ok', remaining }`,
);

// KEYS: throttle. ARGV: scope.
export const GET_THROTTLE: Script = /* @__PURE__ */ script(
  'getThrottle',
  `return redis.call('HGET', KEYS[1], ARGV[1])`,
);

// KEYS: throttle. ARGV: '1' (every bucket) or '0' and the scope.
export const RESET_THROTTLE: Script = /* @__PURE__ */ script(
  'resetThrottle',
  `if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) else redis.call('HDEL', KEYS[1], ARGV[2]) end
return 0`,
);

// KEYS: credentials. ARGV: credential ids.
export const GET_CREDENTIALS: Script = /* @__PURE__ */ script(
  'getCredentials',
  `return redis.call('HMGET', KEYS[1], unpack(ARGV))`,
);

// KEYS: credentials. ARGV: credential id, its new state.
export const INIT_CREDENTIAL: Script = /* @__PURE__ */ script(
  'initCredential',
  `local bad = wrongType({ 'credentials' })
if bad then return corrupt(bad .. ' key type') end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`,
);

// KEYS: credentials. ARGV: credential ids.
export const DELETE_CREDENTIALS: Script = /* @__PURE__ */ script(
  'deleteCredentials',
  `redis.call('HDEL', KEYS[1], unpack(ARGV))
return 0`,
);

// KEYS: recovery codes, recovery set.
export const GET_SET: Script = /* @__PURE__ */ script(
  'getRecoveryCodeSet',
  `return { redis.call('HMGET', KEYS[2], 'setId', 'issuedAt', 'total'), redis.call('HGETALL', KEYS[1]) }`,
);

// KEYS: recovery codes, recovery set. ARGV: expected set id ('' = none), '1' (a new set) or '0'
// (none), set id, issuedAt, total, then id1, position:hash1, id2, ... Old set out, new set in.
export const REPLACE_SET: Script = /* @__PURE__ */ script(
  'replaceRecoveryCodes',
  `local bad = wrongType({ 'recovery codes', 'recovery set' })
if bad then return corrupt(bad .. ' key type') end
local cur = readSet(1, 2)
if cur == nil then return corrupt('recovery-code set') end
if (cur and cur[1][1] or '') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
if ARGV[2] == '1' then
  for i = 6, #ARGV, 200 do redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 199, #ARGV))) end
  redis.call('HSET', KEYS[2], 'setId', ARGV[3], 'issuedAt', ARGV[4], 'total', ARGV[5])
end
return 1`,
);

// KEYS: challenges, recovery codes, devices. ARGV: hash, createdAt, expiresAt, attempts,
// maxAttempts, scope, recoveryScope, the rest of the record (NUL payload NUL oob NUL id...),
// maxLive, key TTL, then a known-device token hash ('' = none), its new hash, the device's new
// expiresAt.
// The token is used as rotateDevice would; rotated, the challenge gets that device's buckets.
// Dead challenges and the oldest live ones beyond maxLive − 1 give way (ties: the older insertion
// first). Returns the number of unused recovery codes and the rotation's reply (false: none).
export const CREATE_CHALLENGE: Script = /* @__PURE__ */ script(
  'createChallenge',
  `-- (No TYPE checks: every key is read before anything is written, and a read of a key of
-- another type fails with WRONGTYPE, which the store reports as corrupt.)
local hash, created, maxLive = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[9])
local codes = redis.call('HLEN', KEYS[2])
local status, dev = false, nil
if ARGV[11] ~= '' then
  status, dev = findDevice(KEYS[3], 'known', ARGV[11], created)
  if not status then return corrupt('device') end
end
local all = redis.call('HGETALL', KEYS[1])
local live = {}
for i = 1, #all, 2 do
  local r = challenge(all[i + 1])
  if not r then return corrupt('challenge') end
  live[#live + 1] = { hash = all[i], created = r.created, seq = r.seq, dead = r.expires <= created }
end
local reply, suffix = false, ''
if status == 'rotated' then
  reply = rotateFound(KEYS[3], dev, ARGV[11], ARGV[12], created, tonumber(ARGV[13]))
  suffix = ':device:' .. dev.id -- the known device's buckets: its attempts count apart from strangers'
elseif status == 'replayed' then
  reply = { 'replayed', dev.id }
elseif status then
  reply = { 'unknown' }
end
for i = #live, 1, -1 do
  if live[i].dead then
    redis.call('HDEL', KEYS[1], live[i].hash)
    table.remove(live, i)
  end
end
table.sort(live, olderFirst)
local drop = #live - (maxLive - 1)
local seq, top = nil, 0
for i, r in ipairs(live) do
  if i <= drop then
    redis.call('HDEL', KEYS[1], r.hash)
  else
    if r.hash == hash then seq = r.seq end
    if r.seq > top then top = r.seq end
  end
end
redis.call('HSET', KEYS[1], hash, ARGV[2] .. ':' .. ARGV[3] .. ':' .. ARGV[4] .. ':' .. ARGV[5] .. ':' .. int(seq or top + 1) ..
  NUL .. ARGV[6] .. suffix .. NUL .. ARGV[7] .. suffix .. ARGV[8])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[10]) then redis.call('PEXPIRE', KEYS[1], ARGV[10]) end
return { codes, reply }`,
);

// KEYS: challenges, then any further keys to delete (eraseUser).
export const DROP_CHALLENGES: Script = /* @__PURE__ */ script(
  'deleteChallenges',
  `redis.call('DEL', unpack(KEYS))
return 0`,
);

// KEYS: step-up tokens. ARGV: hash, now. Used once, expired or not; true only before expiresAt.
export const CONSUME_STEP_UP: Script = /* @__PURE__ */ script(
  'consumeStepUp',
  `local bad = wrongType({ 'step-up tokens' })
if bad then return corrupt(bad .. ' key type') end
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local exp = uint(v)
if not exp then return corrupt('step-up token') end
redis.call('HDEL', KEYS[1], ARGV[1])
if exp > tonumber(ARGV[2]) then return 1 end
return 0`,
);

// KEYS: challenges. ARGV: hash, now, the new oob part ('' = none), expected code hash ('' = any).
export const SET_CHALLENGE_CODE: Script = /* @__PURE__ */ script(
  'setChallengeCode',
  `local bad = wrongType({ 'challenges' })
if bad then return corrupt(bad .. ' key type') end
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local ch = challenge(v)
if not ch then return corrupt('challenge') end
if ch.expires <= tonumber(ARGV[2]) then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 0
end
if ARGV[4] ~= '' and ch.oobHash ~= ARGV[4] then return 0 end
ch.parts[5] = ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], challengeText(ch))
return 1`,
);

// Devices. KEYS: devices (hash: device id -> record).

// ARGV: id, kind, createdAt, maxPerUser, the record without its seq. Dead devices of the kind and
// the oldest live ones beyond maxPerUser − 1 give way (ties: the older insertion first).
export const CREATE_DEVICE: Script = /* @__PURE__ */ script(
  'createDevice',
  `local bad = wrongType({ 'devices' })
if bad then return corrupt(bad .. ' key type') end
local list = readDevices(KEYS[1])
if not list then return corrupt('device') end
putDevice(KEYS[1], list, ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5])
return 1`,
);

// ARGV: kind, token hash, new hash, now, new expiresAt ('' = keep). In insertion order, the first
// device of the kind whose live token it is rotates; one whose replaced token it is, a replay.
export const ROTATE_DEVICE: Script = /* @__PURE__ */ script(
  'rotateDevice',
  `-- (No TYPE checks: every key is read before anything is written, and a read of a key of another
-- type fails with WRONGTYPE, which the store reports as corrupt.)
local now = tonumber(ARGV[4])
local status, r = findDevice(KEYS[1], ARGV[1], ARGV[2], now)
if not status then return corrupt('device') end
if status == 'rotated' then return rotateFound(KEYS[1], r, ARGV[2], ARGV[3], now, tonumber(ARGV[5])) end
if status == 'replayed' then return { 'replayed', r.id } end
return { 'unknown' }`,
);

export const LIST_DEVICES: Script = /* @__PURE__ */ script(
  'listDevices',
  `return redis.call('HGETALL', KEYS[1])`,
);

// ARGV: kind, device id ('' = every device of the kind). Returns how many were removed.
export const REVOKE_DEVICES: Script = /* @__PURE__ */ script(
  'revokeDevices',
  `local bad = wrongType({ 'devices' })
if bad then return corrupt(bad .. ' key type') end
local all = redis.call('HGETALL', KEYS[1])
local gone = {}
for i = 1, #all, 2 do
  local r = device(all[i + 1])
  if not r then return corrupt('device') end
  if r.kind == ARGV[1] and (ARGV[2] == '' or all[i] == ARGV[2]) then gone[#gone + 1] = all[i] end
end
for _, id in ipairs(gone) do redis.call('HDEL', KEYS[1], id) end
return #gone`,
);

// Send quotas. KEYS: the bucket's key (a string: window:count:lastAt).

// ARGV: now, limit, windowMs, cooldownMs, TTL. Returns { 1 } or { 0, retryAfterMs }.
export const RESERVE_SEND: Script = /* @__PURE__ */ script(
  'reserveSend',
  `local t = redis.call('TYPE', KEYS[1])['ok']
if t ~= 'none' and t ~= 'string' then return corrupt('send quota key type') end
local v = redis.call('GET', KEYS[1])
local now, limit, win, cool = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local window = math.floor(now / win)
local count, left = 0, 0
if v then
  local w, c, l = quota(v)
  if not w then return corrupt('send quota') end
  if w == window then count = c end
  left = l + cool - now
end
if left > 0 or count >= limit then
  local wait = 0
  if count >= limit then wait = (window + 1) * win - now end
  return { 0, math.max(left, wait) }
end
redis.call('SET', KEYS[1], int(window) .. ':' .. int(count + 1) .. ':' .. int(now), 'PX', ARGV[5])
return { 1 }`,
);

// ARGV: now, windowMs. One send of the current window taken back.
export const RELEASE_SEND: Script = /* @__PURE__ */ script(
  'releaseSend',
  `local t = redis.call('TYPE', KEYS[1])['ok']
if t ~= 'none' and t ~= 'string' then return corrupt('send quota key type') end
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local w, c, l = quota(v)
if not w then return corrupt('send quota') end
if w == math.floor(tonumber(ARGV[1]) / tonumber(ARGV[2])) and c > 0 then
  redis.call('SET', KEYS[1], int(w) .. ':' .. int(c - 1) .. ':' .. int(l), 'KEEPTTL')
end
return 0`,
);

// The factor registry. KEYS: factors (hash: factor id -> record).

// ARGV: id, now, maxPending, maxConfirmed, pending ('1'), the record's header without seq,
// label, sealed secret and hint ('' = none) as JSON. Returns the outcome and the dead pending factors dropped.
export const ADD_FACTOR: Script = /* @__PURE__ */ script(
  'addFactor',
  `local bad = wrongType({ 'factors' })
if bad then return corrupt(bad .. ' key type') end
local id, now = ARGV[1], tonumber(ARGV[2])
local all = redis.call('HGETALL', KEYS[1])
local dead, pending, confirmed, top = {}, 0, 0, 0
for i = 1, #all, 2 do
  local r = factor(all[i + 1])
  if not r then return corrupt('factor') end
  if r.status == 'pending' and r.expires <= now then
    dead[#dead + 1] = all[i]
  else
    if r.status == 'pending' then pending = pending + 1 else confirmed = confirmed + 1 end
    if r.seq > top then top = r.seq end
  end
end
for _, f in ipairs(dead) do redis.call('HDEL', KEYS[1], f) end
local out = { 'added', dead }
if redis.call('HEXISTS', KEYS[1], id) == 1 then
  out[1] = 'duplicate'
elseif (ARGV[5] == '1' and pending >= tonumber(ARGV[3])) or (ARGV[5] ~= '1' and confirmed >= tonumber(ARGV[4])) then
  out[1] = 'limit'
else
  redis.call('HSET', KEYS[1], id, int(top + 1) .. ':' .. ARGV[6] .. NUL .. ARGV[7] .. NUL .. ARGV[8] .. NUL .. ARGV[9])
end
return out`,
);

export const LIST_FACTORS: Script = /* @__PURE__ */ script(
  'listFactors',
  `return redis.call('HGETALL', KEYS[1])`,
);
export const GET_FACTORS: Script = /* @__PURE__ */ script(
  'scanFactors',
  `return redis.call('HMGET', KEYS[1], unpack(ARGV))`,
);

// ARGV: id, now, maxConfirmed.
export const CONFIRM_FACTOR: Script = /* @__PURE__ */ script(
  'confirmFactor',
  `local bad = wrongType({ 'factors' })
if bad then return corrupt(bad .. ' key type') end
local all = redis.call('HGETALL', KEYS[1])
local target, confirmed = nil, 0
for i = 1, #all, 2 do
  local r = factor(all[i + 1])
  if not r then return corrupt('factor') end
  if r.status == 'confirmed' then confirmed = confirmed + 1 end
  if all[i] == ARGV[1] then target = r end
end
if not target or target.status ~= 'pending' then return 'not-found' end
local now = tonumber(ARGV[2])
if target.expires <= now then return 'expired' end
if confirmed >= tonumber(ARGV[3]) then return 'limit' end
redis.call('HSET', KEYS[1], ARGV[1], factorText(target, 'confirmed', now, nil, target.parts[2], target.parts[3]))
return 'confirmed'`,
);

// ARGV: id, new label (JSON).
export const RENAME_FACTOR: Script = /* @__PURE__ */ script(
  'renameFactor',
  `local bad = wrongType({ 'factors' })
if bad then return corrupt(bad .. ' key type') end
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local r = factor(v)
if not r then return corrupt('factor') end
redis.call('HSET', KEYS[1], ARGV[1], factorText(r, r.status, r.confirmed, r.expires, ARGV[2], r.parts[3]))
return 1`,
);

// ARGV: id, expected sealed secret (JSON), new sealed secret (JSON).
export const RESEAL_FACTOR: Script = /* @__PURE__ */ script(
  'resealFactor',
  `local bad = wrongType({ 'factors' })
if bad then return corrupt(bad .. ' key type') end
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local r = factor(v)
if not r then return corrupt('factor') end
if r.parts[3] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], factorText(r, r.status, r.confirmed, r.expires, r.parts[2], ARGV[3]))
return 1`,
);

export const REMOVE_FACTOR: Script = /* @__PURE__ */ script(
  'removeFactor',
  `return redis.call('HDEL', KEYS[1], ARGV[1])`,
);
export const REMOVE_FACTORS: Script = /* @__PURE__ */ script(
  'removeFactors',
  `local bad = wrongType({ 'factors' })
if bad then return corrupt(bad .. ' key type') end
local ids = redis.call('HKEYS', KEYS[1])
redis.call('DEL', KEYS[1])
return ids`,
);

// The global factor index: a sorted set, every score 0, so members sort by their bytes.
export const FACTOR_INDEX_ADD: Script = /* @__PURE__ */ script(
  'addFactor (index)',
  `redis.call('ZADD', KEYS[1], 0, ARGV[1])
return 1`,
);
export const FACTOR_INDEX_REMOVE: Script = /* @__PURE__ */ script(
  'removeFactor (index)',
  `redis.call('ZREM', KEYS[1], unpack(ARGV))
return 1`,
);
export const FACTOR_INDEX_RANGE: Script = /* @__PURE__ */ script(
  'scanFactors (index)',
  `return redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))`,
);
