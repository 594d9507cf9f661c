import { describe, expect, it, vi } from 'vitest';
import {
  createMemoryStore,
  createVerifier,
  generateHOTP,
  generateSecret,
  generateTOTP,
  OtpkitError,
  type VerifierEvent,
} from '../src/index.js';
import { faultyStore } from '../src/testing.js';

const T = Date.UTC(2031, 5, 1, 12, 0, 0);
const secret = new Uint8Array(20).map((_, i) => 255 - i);
const at = (ms: number): string => generateTOTP(secret, { now: ms });

function setup(extra: Parameters<typeof createVerifier>[0] = {}) {
  let now = T;
  const events: VerifierEvent[] = [];
  const store = createMemoryStore();
  const verifier = createVerifier({ store, now: () => now, onEvent: (e) => events.push(e), ...extra });
  return {
    store,
    verifier,
    events,
    advance(ms: number) {
      now += ms;
    },
    get now() {
      return now;
    },
  };
}

describe('createVerifier: TOTP', () => {
  it('accepts a code once, then refuses it as replayed', async () => {
    const { verifier } = setup();
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).toMatchObject({ ok: true, delta: 0 });
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).toEqual({ ok: false, reason: 'replayed' });
  });

  it('refuses an older in-window code after a newer one was accepted', async () => {
    const { verifier } = setup();
    expect((await verifier.verifyTOTP({ userId: 'a', secret, token: at(T + 30_000) })).ok).toBe(true);
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).toEqual({ ok: false, reason: 'replayed' });
  });

  it('the enrollment confirmation consumes its step: the setup code is not a login code', async () => {
    const { verifier } = setup();
    expect((await verifier.confirmTOTP({ userId: 'a', secret, token: at(T) })).ok).toBe(true);
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).toEqual({ ok: false, reason: 'replayed' });
  });

  it('keeps replay state per user and per credential', async () => {
    const { verifier } = setup();
    expect((await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).ok).toBe(true);
    expect((await verifier.verifyTOTP({ userId: 'b', secret, token: at(T) })).ok).toBe(true);
    expect((await verifier.verifyTOTP({ userId: 'a', credentialId: 'phone2', secret, token: at(T) })).ok).toBe(true);
  });

  it('50 concurrent submissions of one code: exactly one ok, the rest replayed', async () => {
    const { verifier } = setup({ throttle: { freeFailures: 100 } });
    const results = await Promise.all(Array.from({ length: 50 }, () => verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'replayed')).toHaveLength(49);
  });

  it('does not trim: a whitespace variant of a used code is malformed, not a second use', async () => {
    const { verifier } = setup();
    expect((await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).ok).toBe(true);
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: ` ${at(T)}` })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('counts malformed and wrong codes, backs off exponentially and resets on success', async () => {
    const ctx = setup({ throttle: { freeFailures: 2, baseDelayMs: 1000, maxDelayMs: 8000, maxFailures: 100 } });
    const { verifier } = ctx;
    const wrong = at(T) === '000000' ? '111111' : '000000';
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: 'x' })).toEqual({ ok: false, reason: 'malformed' });
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: wrong })).toEqual({ ok: false, reason: 'invalid' });
    // Two failures: the next attempt must wait 1 s, and is refused without evaluating the token.
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now) })).toEqual({ ok: false, reason: 'throttled', retryAfterMs: 1000 });
    expect(await verifier.throttleStatus('a')).toEqual({ failures: 2, locked: false, retryAfterMs: 1000 });
    ctx.advance(1000);
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: wrong })).toEqual({ ok: false, reason: 'invalid' });
    // Third failure: 2 s.
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: wrong })).toMatchObject({ reason: 'throttled', retryAfterMs: 2000 });
    ctx.advance(2000);
    await verifier.verifyTOTP({ userId: 'a', secret, token: wrong });
    expect((await verifier.throttleStatus('a')).retryAfterMs).toBe(4000);
    ctx.advance(4000);
    await verifier.verifyTOTP({ userId: 'a', secret, token: wrong });
    expect((await verifier.throttleStatus('a')).retryAfterMs).toBe(8000); // capped at maxDelayMs
    ctx.advance(8000);
    await verifier.verifyTOTP({ userId: 'a', secret, token: wrong });
    expect((await verifier.throttleStatus('a')).retryAfterMs).toBe(8000);
    ctx.advance(8000);
    expect((await verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now) })).ok).toBe(true);
    expect(await verifier.throttleStatus('a')).toEqual({ failures: 0, locked: false, retryAfterMs: 0 });
  });

  it('locks at maxFailures without evaluating the token, until unlock()', async () => {
    const ctx = setup({ throttle: { freeFailures: 5, maxFailures: 5 } });
    for (let i = 0; i < 5; i++) await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: 'bad' });
    expect(await ctx.verifier.throttleStatus('a')).toEqual({ failures: 5, locked: true, retryAfterMs: 0 });
    ctx.advance(86_400_000);
    expect(await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now) })).toEqual({ ok: false, reason: 'locked' });
    await ctx.verifier.unlock('a');
    expect((await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now) })).ok).toBe(true);
  });

  it('a parallel burst of guesses is not evaluated against one stale throttle read', async () => {
    const ctx = setup({ throttle: { freeFailures: 3, baseDelayMs: 60_000 } });
    const evaluated = vi.fn();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => ctx.verifier.verifyTOTP({ userId: 'a', secret, token: String(i).padStart(6, '0') })),
    );
    for (const r of results) if (!r.ok && (r.reason === 'invalid' || r.reason === 'malformed')) evaluated();
    // Only the free attempts, plus at most the one whose read was still current, were evaluated.
    expect(evaluated.mock.calls.length).toBeLessThanOrEqual(4);
    expect(results.every((r) => !r.ok)).toBe(true);
  });

  it('never allows more than 100 consecutive failures (NIST 800-63B §5.2.2)', () => {
    expect(() => createVerifier({ throttle: { maxFailures: 101 } })).toThrow(RangeError);
  });

  it('learns drift and centres later windows on it, never beyond ±10 steps', async () => {
    const ctx = setup({ window: 1 });
    // The authenticator runs one step (30 s) ahead.
    expect(await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now + 30_000) })).toMatchObject({ ok: true, delta: 1 });
    expect((await ctx.store.getState('a', 'default', 'default')).drift).toBe(1);
    // Two steps ahead is now inside the window (centred on +1).
    ctx.advance(60_000);
    expect(await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now + 60_000) })).toMatchObject({ ok: true, delta: 2 });
    // The window centred on +2 no longer accepts the current step's code: it is not widened.
    ctx.advance(120_000);
    expect(await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now) })).toEqual({ ok: false, reason: 'invalid' });
  });

  it('a confirmation centres on now, not on drift learned from an older device', async () => {
    const ctx = setup({ window: 1 });
    // The old phone ran two steps ahead, learned in two moves (+1, then +2 inside the shifted window).
    await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now + 30_000) });
    ctx.advance(90_000);
    expect(await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now + 60_000) })).toMatchObject({ ok: true, delta: 2 });
    // Re-enrollment with a correct clock on the same credential id: a login would look at +1..+3.
    ctx.advance(120_000);
    const fresh = generateSecret();
    const code = generateTOTP(fresh, { now: ctx.now });
    expect(await ctx.verifier.confirmTOTP({ userId: 'a', secret: fresh, token: code })).toMatchObject({ ok: true, delta: 0 });
    expect((await ctx.store.getState('a', 'default', 'otp')).drift).toBe(0);
  });

  it('counts failures per account: a new credential id does not reset throttling (REQUIREMENTS #27)', async () => {
    const ctx = setup({ throttle: { freeFailures: 1, baseDelayMs: 10_000 } });
    expect(await ctx.verifier.verifyTOTP({ userId: 'a', credentialId: 'phone-1', secret, token: 'x' })).toMatchObject({ reason: 'malformed' });
    expect(await ctx.verifier.confirmTOTP({ userId: 'a', credentialId: 'phone-2', secret, token: at(ctx.now) })).toMatchObject({
      reason: 'throttled',
      retryAfterMs: 10_000,
    });
    expect((await ctx.verifier.throttleStatus('a')).failures).toBe(1);
    expect((await ctx.verifier.throttleStatus('a', 'recovery')).failures).toBe(0);
  });

  it('fetches a lazily supplied secret only when the throttle admits the attempt', async () => {
    const ctx = setup({ throttle: { freeFailures: 1, maxFailures: 1 } });
    const fetch = vi.fn(async () => secret);
    expect(await ctx.verifier.verifyTOTP({ userId: 'a', secret: fetch, token: '000000' })).toMatchObject({ ok: false });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(await ctx.verifier.verifyTOTP({ userId: 'a', secret: fetch, token: at(T) })).toEqual({ ok: false, reason: 'locked' });
    expect(fetch).toHaveBeenCalledTimes(1);
    await ctx.verifier.unlock('a');
    expect((await ctx.verifier.verifyTOTP({ userId: 'a', secret: fetch, token: at(T) })).ok).toBe(true);
    expect((await ctx.verifier.verifyHOTP({ userId: 'h', secret: () => secret, token: generateHOTP(secret, 1) })).ok).toBe(true);
    await expect(ctx.verifier.verifyTOTP({ userId: 'b', secret: async () => new Uint8Array(3), token: at(T) })).rejects.toThrow(RangeError);
  });

  it('without learnDrift the window stays centred on now', async () => {
    const ctx = setup({ window: 1, learnDrift: false });
    expect((await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now + 30_000) })).ok).toBe(true);
    ctx.advance(60_000);
    expect(await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now + 60_000) })).toEqual({ ok: false, reason: 'invalid' });
  });

  it('emits structured events with no secrets or codes', async () => {
    const ctx = setup();
    const token = at(T);
    await ctx.verifier.verifyTOTP({ userId: 'a', secret, token });
    await ctx.verifier.verifyTOTP({ userId: 'a', secret, token });
    expect(ctx.events).toEqual([
      { type: 'success', factor: 'totp', userId: 'a', credentialId: 'default' },
      { type: 'failure', factor: 'totp', userId: 'a', credentialId: 'default', reason: 'replayed' },
    ]);
    expect(JSON.stringify(ctx.events)).not.toContain(token);
  });

  it('an event hook that throws does not change the decision', async () => {
    const verifier = createVerifier({ now: () => T, onEvent: () => { throw new Error('logger down'); } });
    expect((await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).ok).toBe(true);
  });

  it('throws for misuse before touching the store', async () => {
    const store = createMemoryStore();
    const spy = vi.spyOn(store, 'getState');
    const verifier = createVerifier({ store, now: () => T });
    await expect(verifier.verifyTOTP({ userId: 'a', secret, token: 123456 as unknown as string })).rejects.toThrow(TypeError);
    await expect(verifier.verifyTOTP({ userId: 'a', secret: 'JBSWY3DP' as unknown as Uint8Array, token: '123456' })).rejects.toThrow(TypeError);
    await expect(verifier.verifyTOTP({ userId: 'a', secret, token: '123456', window: 11 })).rejects.toThrow(RangeError);
    await expect(verifier.verifyTOTP({ userId: '', secret, token: '123456' })).rejects.toThrow(RangeError);
    await expect(verifier.verifyTOTP({ userId: 'a\0b', secret, token: '123456' })).rejects.toThrow(RangeError);
    await expect(verifier.verifyTOTP({ userId: 'a\uD800', secret, token: '123456' })).rejects.toThrow(RangeError);
    await expect(verifier.verifyTOTP({ userId: 'a', credentialId: '\uDC00x', secret, token: '123456' })).rejects.toThrow(RangeError);
    await expect(verifier.verifyTOTP({ userId: 'a', secret, token: '123456', windw: 1 } as never)).rejects.toThrow(RangeError);
    expect(spy).not.toHaveBeenCalled();
    expect(() => createVerifier({ windw: 2 } as never)).toThrow(RangeError);
  });
});

describe('createVerifier: HOTP', () => {
  it('looks ahead, advances the counter with a compare-and-set, refuses reuse', async () => {
    const { verifier, store } = setup();
    expect(await verifier.verifyHOTP({ userId: 'a', secret, token: generateHOTP(secret, 3) })).toEqual({ ok: true, counter: 3n, next: 4n });
    expect((await store.getState('a', 'default', 'default')).hotpCounter).toBe(4n);
    expect(await verifier.verifyHOTP({ userId: 'a', secret, token: generateHOTP(secret, 3) })).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifier.verifyHOTP({ userId: 'a', secret, token: generateHOTP(secret, 4) })).toEqual({ ok: true, counter: 4n, next: 5n });
  });

  it('starts from initialCounter when the store has none', async () => {
    const { verifier } = setup();
    const c = 2n ** 40n;
    expect(await verifier.verifyHOTP({ userId: 'a', secret, token: generateHOTP(secret, c + 2n), initialCounter: c })).toEqual({
      ok: true,
      counter: c + 2n,
      next: c + 3n,
    });
  });

  it('50 concurrent submissions of one HOTP code: exactly one ok', async () => {
    const { verifier } = setup({ throttle: { freeFailures: 100 } });
    const token = generateHOTP(secret, 0);
    const results = await Promise.all(Array.from({ length: 50 }, () => verifier.verifyHOTP({ userId: 'a', secret, token })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });
});

describe('createVerifier: recovery codes', () => {
  it('issues codes shown once, redeems each exactly once, counts remaining', async () => {
    const ctx = setup();
    const codes = await ctx.verifier.issueRecoveryCodes({ userId: 'a' });
    expect(codes).toHaveLength(10);
    expect(await ctx.verifier.remainingRecoveryCodes('a')).toBe(10);
    const stored = await ctx.store.listRecoveryCodes('a');
    for (const c of stored) expect(c.hash).not.toContain((codes[0] as string).replace(/-/g, ''));
    expect(await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: codes[3] as string })).toEqual({ ok: true, remaining: 9 });
    expect(await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: codes[3] as string })).toEqual({ ok: false, reason: 'invalid' });
    expect(ctx.events.filter((e) => e.type === 'recovery-code-used')).toEqual([{ type: 'recovery-code-used', userId: 'a', remaining: 9 }]);
  });

  it('accepts what people type: lower case, spaces, O/I/L look-alikes', async () => {
    const ctx = setup();
    const [code] = await ctx.verifier.issueRecoveryCodes({ userId: 'a', count: 1 });
    const typed = (code as string).toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l');
    expect((await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: typed })).ok).toBe(true);
  });

  it('a user with no codes gets invalid (after the same slow hash), and regenerate is issue', async () => {
    const ctx = setup();
    const t0 = performance.now();
    expect(await ctx.verifier.redeemRecoveryCode({ userId: 'nobody', code: 'AAAA-AAAA-AAAA-AAAA' })).toEqual({ ok: false, reason: 'invalid' });
    expect(performance.now() - t0).toBeGreaterThan(5); // scrypt ran (tens of ms), not an instant "no codes" answer
    const codes = await ctx.verifier.regenerateRecoveryCodes({ userId: 'nobody', count: 2 });
    expect((await ctx.verifier.redeemRecoveryCode({ userId: 'nobody', code: codes[1]! })).ok).toBe(true);
  });

  it("a code of user A never works for user B", async () => {
    const ctx = setup();
    const [code] = await ctx.verifier.issueRecoveryCodes({ userId: 'a', count: 1 });
    await ctx.verifier.issueRecoveryCodes({ userId: 'b', count: 1 });
    expect(await ctx.verifier.redeemRecoveryCode({ userId: 'b', code: code as string })).toEqual({ ok: false, reason: 'invalid' });
    expect((await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: code as string })).ok).toBe(true);
  });

  it('regeneration replaces the whole set and keeps failure counts', async () => {
    const ctx = setup({ throttle: { freeFailures: 10 } });
    const old = await ctx.verifier.issueRecoveryCodes({ userId: 'a', count: 3 });
    await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: 'AAAA-AAAA-AAAA-AAAA' });
    const fresh = await ctx.verifier.issueRecoveryCodes({ userId: 'a', count: 3 });
    expect((await ctx.verifier.throttleStatus('a', 'recovery')).failures).toBe(1);
    for (const c of old) expect(await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: c })).toEqual({ ok: false, reason: 'invalid' });
    expect((await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: fresh[0] as string })).ok).toBe(true);
    expect(ctx.events.filter((e) => e.type === 'recovery-codes-issued')).toEqual([
      { type: 'recovery-codes-issued', userId: 'a', count: 3, replaced: false },
      { type: 'recovery-codes-issued', userId: 'a', count: 3, replaced: true },
    ]);
  });

  it('30 concurrent redemptions of one code: exactly one success', async () => {
    const ctx = setup({ throttle: { freeFailures: 100 } });
    const [code] = await ctx.verifier.issueRecoveryCodes({ userId: 'a', count: 2 });
    const results = await Promise.all(Array.from({ length: 30 }, () => ctx.verifier.redeemRecoveryCode({ userId: 'a', code: code as string })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('is throttled like OTP codes, and a malformed code counts', async () => {
    const ctx = setup({ throttle: { freeFailures: 1, baseDelayMs: 5000 } });
    const [code] = await ctx.verifier.issueRecoveryCodes({ userId: 'a', count: 1 });
    expect(await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: '' })).toEqual({ ok: false, reason: 'invalid' });
    expect(await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: code as string })).toEqual({ ok: false, reason: 'throttled', retryAfterMs: 5000 });
    await expect(ctx.verifier.redeemRecoveryCode({ userId: 'a', code: 5 as unknown as string })).rejects.toThrow(TypeError);
  });
});

describe('createVerifier: storage failures fail closed', () => {
  const methods = ['getState', 'claimTotpStep', 'recordFailure', 'resetFailures'] as const;
  for (const method of methods) {
    it(`a throwing ${method} throws ERR_STORE and never reports ok or "invalid"`, async () => {
      const verifier = createVerifier({ store: faultyStore(createMemoryStore(), method, 'throw'), now: () => T });
      const err = await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OtpkitError);
      expect((err as OtpkitError).code).toBe('ERR_STORE');
      expect((err as OtpkitError).message).not.toContain(at(T));
    });
  }

  it('a hanging claim times out with ERR_STORE_TIMEOUT and the step is not accepted', async () => {
    const store = createMemoryStore();
    const verifier = createVerifier({ store: faultyStore(store, 'claimTotpStep', 'hang'), now: () => T, storeTimeoutMs: 50 });
    await expect(verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).rejects.toMatchObject({ code: 'ERR_STORE_TIMEOUT' });
  });

  it('malformed store data is ERR_STORE_CORRUPT', async () => {
    const verifier = createVerifier({ store: faultyStore(createMemoryStore(), 'getState', 'garbage'), now: () => T });
    await expect(verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
  });

  it('a fresh secret per enrollment works with the default memory store', async () => {
    const verifier = createVerifier({ now: () => T });
    expect(verifier.store.distributedSafe).toBe(false);
    const s = generateSecret();
    expect((await verifier.confirmTOTP({ userId: 'n', secret: s, token: generateTOTP(s, { now: T }) })).ok).toBe(true);
  });
});

describe('createVerifier: corrupt recovery records', () => {
  it('a stored hash that does not parse is ERR_STORE_CORRUPT, never ok', async () => {
    const store = createMemoryStore();
    const verifier = createVerifier({ store, now: () => T });
    const [code] = await verifier.issueRecoveryCodes({ userId: 'a', count: 1 });
    const [rec] = await store.listRecoveryCodes('a');
    await store.replaceRecoveryCodes('a', [{ id: rec!.id, hash: '$otpkit-scrypt$v=1$ln=40,r=8,p=1,len=16$AAAA$AAAA' }]);
    await expect(verifier.redeemRecoveryCode({ userId: 'a', code: code! })).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT' });
  });
});

describe('createVerifier: clock skew between app servers', () => {
  it('a free failure recorded by a server whose clock runs ahead does not throttle', async () => {
    const store = createMemoryStore();
    const ahead = createVerifier({ store, now: () => T + 60_000, throttle: { freeFailures: 3, baseDelayMs: 1000 } });
    const behind = createVerifier({ store, now: () => T, throttle: { freeFailures: 3, baseDelayMs: 1000 } });
    await ahead.verifyTOTP({ userId: 'a', secret, token: 'bad' });
    expect((await behind.verifyTOTP({ userId: 'a', secret, token: at(T) })).ok).toBe(true);
  });

  it('a skewed lastFailureAt never makes the wait longer than the delay owed', async () => {
    const store = createMemoryStore();
    const ahead = createVerifier({ store, now: () => T + 3_600_000, throttle: { freeFailures: 1, baseDelayMs: 1000 } });
    const behind = createVerifier({ store, now: () => T, throttle: { freeFailures: 1, baseDelayMs: 1000 } });
    await ahead.verifyTOTP({ userId: 'a', secret, token: 'bad' });
    expect(await behind.verifyTOTP({ userId: 'a', secret, token: at(T) })).toEqual({ ok: false, reason: 'throttled', retryAfterMs: 1000 });
  });
});

describe('createVerifier: accepted input keys', () => {
  it('accepts every TOTP/HOTP option the pure functions accept', async () => {
    const { OTP_KEYS } = await import('../src/hotp.js');
    const { TIME_KEYS } = await import('../src/totp.js');
    const values: Record<string, unknown> = { algorithm: 'SHA1', digits: 6, allowInsecureShortSecret: false, period: 30, t0: 0, now: T };
    const verifier = createVerifier({ now: () => T });
    for (const key of [...OTP_KEYS, ...TIME_KEYS]) {
      const r = await verifier.verifyTOTP({ userId: `k-${key}`, secret, token: at(T), [key]: values[key] } as never);
      expect(r.ok).toBe(true);
    }
    for (const key of OTP_KEYS) {
      const r = await verifier.verifyHOTP({ userId: `h-${key}`, secret, token: generateHOTP(secret, 0), [key]: values[key] } as never);
      expect(r.ok).toBe(true);
    }
  });
});
