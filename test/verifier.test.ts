import { describe, expect, it, vi } from 'vitest';
import {
  createMemoryStore,
  createVerifier,
  generateHOTP,
  generateSecret,
  generateTOTP,
  OtpkitError,
  type OtpStore,
  type ThrottleScope,
  type Verifier,
  type VerifierEvent,
} from '../src/index.js';
import { faultyStore } from '../src/testing.js';
import { expectOneRegenerationWins, expectPerCallNowValidated } from './_helpers.js';

const T = Date.UTC(2031, 5, 1, 12, 0, 0);
const secret = new Uint8Array(20).map((_, i) => 255 - i);
const at = (ms: number): string => generateTOTP(secret, { now: ms });

function setup(extra: Parameters<typeof createVerifier>[0] = {}) {
  let now = T;
  const events: VerifierEvent[] = [];
  const store = createMemoryStore();
  const verifier = createVerifier({
    store,
    now: () => now,
    onEvent: (e) => events.push(e),
    ...extra,
  });
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
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).toMatchObject({
      ok: true,
      delta: 0,
    });
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).toEqual({
      ok: false,
      reason: 'replayed',
    });
  });

  it('refuses an older in-window code after a newer one was accepted', async () => {
    const { verifier } = setup();
    expect((await verifier.verifyTOTP({ userId: 'a', secret, token: at(T + 30_000) })).ok).toBe(
      true,
    );
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).toEqual({
      ok: false,
      reason: 'replayed',
    });
  });

  it('the enrollment confirmation consumes its step: the setup code is not a login code', async () => {
    const { verifier } = setup();
    expect((await verifier.confirmTOTP({ userId: 'a', secret, token: at(T) })).ok).toBe(true);
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).toEqual({
      ok: false,
      reason: 'replayed',
    });
  });

  it('keeps replay state per user and per credential', async () => {
    const { verifier } = setup();
    expect((await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).ok).toBe(true);
    expect((await verifier.verifyTOTP({ userId: 'b', secret, token: at(T) })).ok).toBe(true);
    expect(
      (await verifier.verifyTOTP({ userId: 'a', credentialId: 'phone2', secret, token: at(T) })).ok,
    ).toBe(true);
  });

  it('50 concurrent submissions of one code: exactly one ok, the rest replayed', async () => {
    const { verifier } = setup({ throttle: { freeFailures: 100 } });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'replayed')).toHaveLength(49);
  });

  it('does not trim: a whitespace variant of a used code is malformed, not a second use', async () => {
    const { verifier } = setup();
    expect((await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).ok).toBe(true);
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: ` ${at(T)}` })).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('counts malformed and wrong codes, backs off exponentially and resets on success', async () => {
    const ctx = setup({
      throttle: { freeFailures: 2, baseDelayMs: 1000, maxDelayMs: 8000, maxFailures: 100 },
    });
    const { verifier } = ctx;
    const wrong = at(T) === '000000' ? '111111' : '000000';
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: 'x' })).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: wrong })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    // Two failures: the next attempt must wait 1 s, and is refused without evaluating the token.
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now) })).toEqual({
      ok: false,
      reason: 'throttled',
      retryAfterMs: 1000,
    });
    expect(await verifier.throttleStatus('a')).toEqual({
      failures: 2,
      locked: false,
      retryAfterMs: 1000,
    });
    ctx.advance(1000);
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: wrong })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    // Third failure: 2 s.
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: wrong })).toMatchObject({
      reason: 'throttled',
      retryAfterMs: 2000,
    });
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
    expect(await verifier.throttleStatus('a')).toEqual({
      failures: 0,
      locked: false,
      retryAfterMs: 0,
    });
  });

  it('locks at maxFailures without evaluating the token, until unlock()', async () => {
    const ctx = setup({ throttle: { freeFailures: 5, maxFailures: 5 } });
    for (let i = 0; i < 5; i++)
      await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: 'bad' });
    expect(await ctx.verifier.throttleStatus('a')).toEqual({
      failures: 5,
      locked: true,
      retryAfterMs: 0,
    });
    ctx.advance(86_400_000);
    expect(await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now) })).toEqual({
      ok: false,
      reason: 'locked',
    });
    await ctx.verifier.unlock('a');
    expect((await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now) })).ok).toBe(
      true,
    );
  });

  it('a parallel burst of guesses is not evaluated against one stale throttle read', async () => {
    const ctx = setup({ throttle: { freeFailures: 3, baseDelayMs: 60_000 } });
    const evaluated = vi.fn();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        ctx.verifier.verifyTOTP({ userId: 'a', secret, token: String(i).padStart(6, '0') }),
      ),
    );
    for (const r of results)
      if (!r.ok && (r.reason === 'invalid' || r.reason === 'malformed')) evaluated();
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
    expect(
      await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now + 30_000) }),
    ).toMatchObject({ ok: true, delta: 1 });
    expect((await ctx.store.getCredentials('a', ['default'])).default?.drift).toBe(1);
    // Two steps ahead is now inside the window (centred on +1).
    ctx.advance(60_000);
    expect(
      await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now + 60_000) }),
    ).toMatchObject({ ok: true, delta: 2 });
    // The window centred on +2 no longer accepts the current step's code: it is not widened.
    ctx.advance(120_000);
    expect(await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now) })).toEqual({
      ok: false,
      reason: 'invalid',
    });
  });

  it('a confirmation centres on now, not on drift learned from an older device', async () => {
    const ctx = setup({ window: 1 });
    // The old phone ran two steps ahead, learned in two moves (+1, then +2 inside the shifted window).
    await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now + 30_000) });
    ctx.advance(90_000);
    expect(
      await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now + 60_000) }),
    ).toMatchObject({ ok: true, delta: 2 });
    // Re-enrollment with a correct clock on the same credential id: a login would look at +1..+3.
    ctx.advance(120_000);
    const fresh = generateSecret();
    const code = generateTOTP(fresh, { now: ctx.now });
    expect(
      await ctx.verifier.confirmTOTP({ userId: 'a', secret: fresh, token: code }),
    ).toMatchObject({ ok: true, delta: 0 });
    expect((await ctx.store.getCredentials('a', ['default'])).default?.drift).toBe(0);
  });

  it('counts failures per account: a new credential id does not reset throttling (RFC 4226 §7.3: throttle per account)', async () => {
    const ctx = setup({ throttle: { freeFailures: 1, baseDelayMs: 10_000 } });
    expect(
      await ctx.verifier.verifyTOTP({ userId: 'a', credentialId: 'phone-1', secret, token: 'x' }),
    ).toMatchObject({ reason: 'malformed' });
    expect(
      await ctx.verifier.confirmTOTP({
        userId: 'a',
        credentialId: 'phone-2',
        secret,
        token: at(ctx.now),
      }),
    ).toMatchObject({
      reason: 'throttled',
      retryAfterMs: 10_000,
    });
    expect((await ctx.verifier.throttleStatus('a')).failures).toBe(1);
    expect((await ctx.verifier.throttleStatus('a', 'recovery')).failures).toBe(0);
  });

  it('fetches a lazily supplied secret only when the throttle admits the attempt', async () => {
    const ctx = setup({ throttle: { freeFailures: 1, maxFailures: 1 } });
    const fetch = vi.fn(async () => secret);
    expect(
      await ctx.verifier.verifyTOTP({ userId: 'a', secret: fetch, token: '000000' }),
    ).toMatchObject({ ok: false });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(await ctx.verifier.verifyTOTP({ userId: 'a', secret: fetch, token: at(T) })).toEqual({
      ok: false,
      reason: 'locked',
    });
    expect(fetch).toHaveBeenCalledTimes(1);
    await ctx.verifier.unlock('a');
    expect((await ctx.verifier.verifyTOTP({ userId: 'a', secret: fetch, token: at(T) })).ok).toBe(
      true,
    );
    expect(
      (
        await ctx.verifier.verifyHOTP({
          userId: 'h',
          secret: () => secret,
          token: generateHOTP(secret, 1),
        })
      ).ok,
    ).toBe(true);
    await expect(
      ctx.verifier.verifyTOTP({ userId: 'b', secret: async () => new Uint8Array(3), token: at(T) }),
    ).rejects.toThrow(RangeError);
  });

  it('without learnDrift the window stays centred on now', async () => {
    const ctx = setup({ window: 1, learnDrift: false });
    expect(
      (await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now + 30_000) })).ok,
    ).toBe(true);
    ctx.advance(60_000);
    expect(
      await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: at(ctx.now + 60_000) }),
    ).toEqual({ ok: false, reason: 'invalid' });
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
    const verifier = createVerifier({
      now: () => T,
      onEvent: () => {
        throw new Error('logger down');
      },
    });
    expect((await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).ok).toBe(true);
  });

  it('throws for misuse before touching the store', async () => {
    const store = createMemoryStore();
    const spy = vi.spyOn(store, 'attemptTotp');
    const verifier = createVerifier({ store, now: () => T });
    await expect(
      verifier.verifyTOTP({ userId: 'a', secret, token: 123456 as unknown as string }),
    ).rejects.toThrow(TypeError);
    await expect(
      verifier.verifyTOTP({
        userId: 'a',
        secret: 'JBSWY3DP' as unknown as Uint8Array,
        token: '123456',
      }),
    ).rejects.toThrow(TypeError);
    await expect(
      verifier.verifyTOTP({ userId: 'a', secret, token: '123456', window: 11 }),
    ).rejects.toThrow(RangeError);
    await expect(verifier.verifyTOTP({ userId: '', secret, token: '123456' })).rejects.toThrow(
      RangeError,
    );
    await expect(verifier.verifyTOTP({ userId: 'a\0b', secret, token: '123456' })).rejects.toThrow(
      RangeError,
    );
    await expect(
      verifier.verifyTOTP({ userId: 'a\uD800', secret, token: '123456' }),
    ).rejects.toThrow(RangeError);
    await expect(
      verifier.verifyTOTP({ userId: 'a', credentialId: '\uDC00x', secret, token: '123456' }),
    ).rejects.toThrow(RangeError);
    await expect(
      verifier.verifyTOTP({ userId: 'a', secret, token: '123456', windw: 1 } as never),
    ).rejects.toThrow(RangeError);
    expect(spy).not.toHaveBeenCalled();
    expect(() => createVerifier({ windw: 2 } as never)).toThrow(RangeError);
  });
});

describe('createVerifier: HOTP', () => {
  it('looks ahead, advances the counter with a compare-and-set, refuses reuse', async () => {
    const { verifier, store } = setup();
    expect(
      await verifier.verifyHOTP({ userId: 'a', secret, token: generateHOTP(secret, 3) }),
    ).toEqual({ ok: true, counter: 3n, next: 4n });
    expect((await store.getCredentials('a', ['default'])).default?.hotpCounter).toBe(4n);
    expect(
      await verifier.verifyHOTP({ userId: 'a', secret, token: generateHOTP(secret, 3) }),
    ).toEqual({ ok: false, reason: 'invalid' });
    expect(
      await verifier.verifyHOTP({ userId: 'a', secret, token: generateHOTP(secret, 4) }),
    ).toEqual({ ok: true, counter: 4n, next: 5n });
  });

  it('starts from initialCounter when the store has none', async () => {
    const { verifier } = setup();
    const c = 2n ** 40n;
    expect(
      await verifier.verifyHOTP({
        userId: 'a',
        secret,
        token: generateHOTP(secret, c + 2n),
        initialCounter: c,
      }),
    ).toEqual({
      ok: true,
      counter: c + 2n,
      next: c + 3n,
    });
  });

  it('50 concurrent submissions of one HOTP code: exactly one ok', async () => {
    const { verifier } = setup({ throttle: { freeFailures: 100 } });
    const token = generateHOTP(secret, 0);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => verifier.verifyHOTP({ userId: 'a', secret, token })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });
});

describe('createVerifier: recovery codes', () => {
  it('issues codes shown once, redeems each exactly once, counts remaining', async () => {
    const ctx = setup();
    const codes = await ctx.verifier.issueRecoveryCodes({ userId: 'a' });
    expect(codes).toHaveLength(10);
    expect(await ctx.verifier.remainingRecoveryCodes('a')).toBe(10);
    const stored = (await ctx.store.getRecoveryCodeSet('a'))?.codes ?? [];
    expect(stored).toHaveLength(10);
    for (const c of stored) expect(c.hash).not.toContain((codes[0] as string).replace(/-/g, ''));
    expect(
      await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: codes[3] as string }),
    ).toEqual({ ok: true, remaining: 9 });
    expect(
      await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: codes[3] as string }),
    ).toEqual({ ok: false, reason: 'invalid' });
    expect(ctx.events.filter((e) => e.type === 'recovery-code-used')).toEqual([
      { type: 'recovery-code-used', userId: 'a', remaining: 9 },
    ]);
  });

  it('accepts what people type: lower case, spaces, O/I/L look-alikes', async () => {
    const ctx = setup();
    const [code] = await ctx.verifier.issueRecoveryCodes({ userId: 'a', count: 1 });
    const typed = (code as string)
      .toLowerCase()
      .replace(/-/g, ' ')
      .replace(/0/g, 'o')
      .replace(/1/g, 'l');
    expect((await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: typed })).ok).toBe(true);
  });

  it('a user with no codes gets invalid (after the same slow hash), and regenerate is issue', async () => {
    const ctx = setup();
    const t0 = performance.now();
    expect(
      await ctx.verifier.redeemRecoveryCode({ userId: 'nobody', code: 'AAAA-AAAA-AAAA-AAAA' }),
    ).toEqual({ ok: false, reason: 'invalid' });
    expect(performance.now() - t0).toBeGreaterThan(5); // scrypt ran (tens of ms), not an instant "no codes" answer
    const codes = await ctx.verifier.regenerateRecoveryCodes({ userId: 'nobody', count: 2 });
    expect((await ctx.verifier.redeemRecoveryCode({ userId: 'nobody', code: codes[1]! })).ok).toBe(
      true,
    );
  });

  it('a code of user A never works for user B', async () => {
    const ctx = setup();
    const [code] = await ctx.verifier.issueRecoveryCodes({ userId: 'a', count: 1 });
    await ctx.verifier.issueRecoveryCodes({ userId: 'b', count: 1 });
    expect(await ctx.verifier.redeemRecoveryCode({ userId: 'b', code: code as string })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect((await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: code as string })).ok).toBe(
      true,
    );
  });

  it('concurrent regenerations: one set is stored and handed out, the others throw ERR_CONFLICT', async () => {
    await expectOneRegenerationWins(createMemoryStore(), createVerifier, 'racer');
  });

  it('a bad per-call now while backing off is misuse and counts nothing; a fractional one corrupts nothing', async () => {
    await expectPerCallNowValidated(createMemoryStore(), createVerifier, generateTOTP, 'bad-now');
  });

  it('regeneration replaces the whole set and keeps failure counts', async () => {
    const ctx = setup({ throttle: { freeFailures: 10 } });
    const old = await ctx.verifier.issueRecoveryCodes({ userId: 'a', count: 3 });
    await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: 'AAAA-AAAA-AAAA-AAAA' });
    const fresh = await ctx.verifier.issueRecoveryCodes({ userId: 'a', count: 3 });
    expect((await ctx.verifier.throttleStatus('a', 'recovery')).failures).toBe(1);
    for (const c of old)
      expect(await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: c })).toEqual({
        ok: false,
        reason: 'invalid',
      });
    expect(
      (await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: fresh[0] as string })).ok,
    ).toBe(true);
    expect(ctx.events.filter((e) => e.type === 'recovery-codes-issued')).toEqual([
      { type: 'recovery-codes-issued', userId: 'a', count: 3, replaced: false },
      { type: 'recovery-codes-issued', userId: 'a', count: 3, replaced: true },
    ]);
  });

  it('30 concurrent redemptions of one code: exactly one success', async () => {
    const ctx = setup({ throttle: { freeFailures: 100 } });
    const [code] = await ctx.verifier.issueRecoveryCodes({ userId: 'a', count: 2 });
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        ctx.verifier.redeemRecoveryCode({ userId: 'a', code: code as string }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('is throttled like OTP codes, and a malformed code counts', async () => {
    const ctx = setup({ throttle: { freeFailures: 1, baseDelayMs: 5000 } });
    const [code] = await ctx.verifier.issueRecoveryCodes({ userId: 'a', count: 1 });
    expect(await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: '' })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: code as string })).toEqual({
      ok: false,
      reason: 'throttled',
      retryAfterMs: 5000,
    });
    await expect(
      ctx.verifier.redeemRecoveryCode({ userId: 'a', code: 5 as unknown as string }),
    ).rejects.toThrow(TypeError);
  });
});

describe('createVerifier: storage failures fail closed', () => {
  // A secret given directly takes the one fused call; a secret given as a function takes two.
  const cases = [
    ['attemptTotp', secret],
    ['beginAttempt', () => secret],
    ['settleAttempt', () => secret],
  ] as const;
  for (const [method, source] of cases) {
    it(`a throwing ${method} throws ERR_STORE and never reports ok or "invalid"`, async () => {
      const verifier = createVerifier({
        store: faultyStore(createMemoryStore(), method, 'throw'),
        now: () => T,
      });
      const err = await verifier
        .verifyTOTP({ userId: 'a', secret: source, token: at(T) })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OtpkitError);
      expect((err as OtpkitError).code).toBe('ERR_STORE');
      expect((err as OtpkitError).message).not.toContain(at(T));
    });
  }

  it('a hanging claim times out with ERR_STORE_TIMEOUT and the step is not accepted', async () => {
    const store = createMemoryStore();
    const verifier = createVerifier({
      store: faultyStore(store, 'attemptTotp', 'hang'),
      now: () => T,
      storeTimeoutMs: 50,
    });
    await expect(verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).rejects.toMatchObject({
      code: 'ERR_STORE_TIMEOUT',
    });
    expect((await store.getCredentials('a', ['default'])).default).toBeNull();
  });

  it('malformed store data is ERR_STORE_CORRUPT', async () => {
    const verifier = createVerifier({
      store: faultyStore(createMemoryStore(), 'attemptTotp', 'garbage'),
      now: () => T,
    });
    await expect(verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).rejects.toMatchObject({
      code: 'ERR_STORE_CORRUPT',
    });
  });

  it('a fresh secret per enrollment works with the default memory store', async () => {
    const verifier = createVerifier({ now: () => T });
    expect(verifier.store.distributedSafe).toBe(false);
    const s = generateSecret();
    expect(
      (await verifier.confirmTOTP({ userId: 'n', secret: s, token: generateTOTP(s, { now: T }) }))
        .ok,
    ).toBe(true);
  });
});

describe('createVerifier: corrupt recovery records', () => {
  it('a stored hash that does not parse is ERR_STORE_CORRUPT, never ok', async () => {
    const store = createMemoryStore();
    const verifier = createVerifier({ store, now: () => T });
    const [code] = await verifier.issueRecoveryCodes({ userId: 'a', count: 1 });
    const current = await store.getRecoveryCodeSet('a');
    const [rec] = current!.codes;
    const tampered = {
      ...current!,
      setId: 'tampered',
      codes: [{ id: rec!.id, hash: '$otpkit-scrypt$v=1$ln=40,r=8,p=1,len=16$AAAA$AAAA' }],
    };
    await store.replaceRecoveryCodes('a', tampered, current!.setId);
    await expect(verifier.redeemRecoveryCode({ userId: 'a', code: code! })).rejects.toMatchObject({
      code: 'ERR_STORE_CORRUPT',
    });
  });
});

describe('createVerifier: clock skew between app servers', () => {
  it('a free failure recorded by a server whose clock runs ahead does not throttle', async () => {
    const store = createMemoryStore();
    const ahead = createVerifier({
      store,
      now: () => T + 60_000,
      throttle: { freeFailures: 3, baseDelayMs: 1000 },
    });
    const behind = createVerifier({
      store,
      now: () => T,
      throttle: { freeFailures: 3, baseDelayMs: 1000 },
    });
    await ahead.verifyTOTP({ userId: 'a', secret, token: 'bad' });
    expect((await behind.verifyTOTP({ userId: 'a', secret, token: at(T) })).ok).toBe(true);
  });

  it('a skewed lastFailureAt never makes the wait longer than the delay owed', async () => {
    const store = createMemoryStore();
    const ahead = createVerifier({
      store,
      now: () => T + 3_600_000,
      throttle: { freeFailures: 1, baseDelayMs: 1000 },
    });
    const behind = createVerifier({
      store,
      now: () => T,
      throttle: { freeFailures: 1, baseDelayMs: 1000 },
    });
    await ahead.verifyTOTP({ userId: 'a', secret, token: 'bad' });
    expect(await behind.verifyTOTP({ userId: 'a', secret, token: at(T) })).toEqual({
      ok: false,
      reason: 'throttled',
      retryAfterMs: 1000,
    });
  });
});

describe('createVerifier: accepted input keys', () => {
  it('accepts every TOTP/HOTP option the pure functions accept', async () => {
    const { OTP_KEYS } = await import('../src/hotp.js');
    const { TIME_KEYS } = await import('../src/totp.js');
    const values: Record<string, unknown> = {
      algorithm: 'SHA1',
      digits: 6,
      allowInsecureShortSecret: false,
      period: 30,
      t0: 0,
      now: T,
    };
    const verifier = createVerifier({ now: () => T });
    for (const key of [...OTP_KEYS, ...TIME_KEYS]) {
      const r = await verifier.verifyTOTP({
        userId: `k-${key}`,
        secret,
        token: at(T),
        [key]: values[key],
      } as never);
      expect(r.ok).toBe(true);
    }
    for (const key of OTP_KEYS) {
      const r = await verifier.verifyHOTP({
        userId: `h-${key}`,
        secret,
        token: generateHOTP(secret, 0),
        [key]: values[key],
      } as never);
      expect(r.ok).toBe(true);
    }
  });
});

/** A memory store whose every call is recorded, to prove that misuse is refused before any store call. */
function recordingStore(): { store: OtpStore; calls: string[] } {
  const base = createMemoryStore();
  const calls: string[] = [];
  const store = new Proxy(base, {
    get(target, prop, receiver): unknown {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls };
}

describe('createVerifier: audit hooks never change a decision or crash the process', () => {
  it('an async onEvent that rejects is reported to onEventError, never an unhandled rejection', async () => {
    const errors: { error: unknown; type: string }[] = [];
    const verifier = createVerifier({
      now: () => T,
      onEvent: async () => {
        await Promise.resolve();
        throw new Error('audit database is down');
      },
      onEventError: (error, event) => errors.push({ error, type: event.type }),
    });
    // Unhandled rejections fail a vitest run, so this test fails if any escapes.
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).toMatchObject({
      ok: true,
    });
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).toEqual({
      ok: false,
      reason: 'replayed',
    });
    expect(await verifier.verifyTOTP({ userId: 'b', secret, token: 'abcdef' })).toEqual({
      ok: false,
      reason: 'malformed',
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(errors.map((e) => e.type)).toEqual(['success', 'failure', 'failure']);
    expect(
      errors.every((e) => e.error instanceof Error && e.error.message === 'audit database is down'),
    ).toBe(true);
  });

  it('a rejecting onEvent without onEventError is swallowed, and a throwing one too', async () => {
    const unhandled = vi.fn();
    // Node's process event where there is one (Node, Bun, Deno, workerd with nodejs_compat), else
    // the web event (a Worker without Node.js compatibility).
    const proc = (globalThis as { process?: NodeJS.Process }).process;
    const onWeb = (ev: Event): void => unhandled((ev as Event & { reason?: unknown }).reason);
    if (proc?.on !== undefined) proc.on('unhandledRejection', unhandled);
    else globalThis.addEventListener('unhandledrejection', onWeb);
    try {
      const rejecting = createVerifier({
        now: () => T,
        onEvent: () => Promise.reject(new Error('down')),
      });
      const throwing = createVerifier({
        now: () => T,
        onEvent: () => {
          throw new Error('down');
        },
      });
      for (const v of [rejecting, throwing]) {
        expect(await v.verifyTOTP({ userId: 'a', secret, token: 'abcdef' })).toEqual({
          ok: false,
          reason: 'malformed',
        });
        expect(await v.verifyTOTP({ userId: 'a', secret, token: at(T) })).toMatchObject({
          ok: true,
        });
      }
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      if (proc?.off !== undefined) proc.off('unhandledRejection', unhandled);
      else globalThis.removeEventListener('unhandledrejection', onWeb);
    }
  });

  it('an onEventError that throws is ignored too', async () => {
    const verifier = createVerifier({
      now: () => T,
      onEvent: () => Promise.reject(new Error('down')),
      onEventError: () => {
        throw new Error('and the logger too');
      },
    });
    expect(await verifier.verifyTOTP({ userId: 'a', secret, token: at(T) })).toMatchObject({
      ok: true,
    });
    await new Promise((r) => setTimeout(r, 10));
  });

  it('refuses an onEventError that is not a function', () => {
    expect(() => createVerifier({ onEventError: 'log' as never })).toThrow(TypeError);
  });
});

describe('createVerifier: every `now` is validated the same way, before anything is read or counted', () => {
  const bad: [string, unknown, typeof TypeError | typeof RangeError][] = [
    ['NaN', Number.NaN, TypeError],
    ['Infinity', Number.POSITIVE_INFINITY, TypeError],
    ['-Infinity', Number.NEGATIVE_INFINITY, TypeError],
    ['a string', '123', TypeError],
    ['an object', {}, TypeError],
    ['null', null, TypeError],
    ['an invalid Date', new Date('x'), TypeError],
    ['a negative time', -1, RangeError],
    ['a time past the year 275760', 8.64e15 + 1, RangeError],
  ];
  const calls = (v: Verifier, now: unknown): Array<[string, () => Promise<unknown>]> => [
    ['verifyTOTP', () => v.verifyTOTP({ userId: 'a', secret, token: at(T), now } as never)],
    ['confirmTOTP', () => v.confirmTOTP({ userId: 'a', secret, token: at(T), now } as never)],
    [
      'verifyHOTP',
      () => v.verifyHOTP({ userId: 'a', secret, token: generateHOTP(secret, 0), now } as never),
    ],
    [
      'redeemRecoveryCode',
      () => v.redeemRecoveryCode({ userId: 'a', code: 'K7QM-4X2P-9D3R-TB8W', now } as never),
    ],
    ['issueRecoveryCodes', () => v.issueRecoveryCodes({ userId: 'a', now } as never)],
    ['throttleStatus', () => v.throttleStatus('a', 'otp', { now } as never)],
  ];
  for (const [label, now, type] of bad) {
    it(`${label} is a ${type.name} on every method, with no store call`, async () => {
      const { store, calls: seen } = recordingStore();
      const v = createVerifier({ store, now: () => T });
      for (const [method, call] of calls(v, now)) {
        const e = await call().then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e, method).toBeInstanceOf(type);
        expect((e as { code?: string }).code, method).toBe(
          type === TypeError ? 'ERR_TIME_TYPE' : 'ERR_TIME_RANGE',
        );
        expect((e as Error).message, method).toContain('"now"');
      }
      expect(seen).toEqual([]);
    });
  }

  it('a clock that returns garbage is misuse too, named "now()"', async () => {
    for (const clock of [() => Number.NaN, () => -5, () => '1' as never]) {
      const { store, calls: seen } = recordingStore();
      const v = createVerifier({ store, now: clock });
      await expect(v.verifyTOTP({ userId: 'a', secret, token: at(T) })).rejects.toThrow(
        /"now\(\)"/,
      );
      await expect(
        v.redeemRecoveryCode({ userId: 'a', code: 'K7QM-4X2P-9D3R-TB8W' }),
      ).rejects.toThrow(/"now\(\)"/);
      expect(seen).toEqual([]);
    }
  });

  it('a fractional now is floored to whole milliseconds: the store is never corrupted', async () => {
    const store = createMemoryStore();
    const v = createVerifier({
      store,
      now: () => T,
      throttle: { freeFailures: 0, baseDelayMs: 1000 },
    });
    expect(await v.verifyTOTP({ userId: 'a', secret, token: 'abcdef', now: T + 0.7 })).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect((await store.getThrottle('a', 'otp')).lastFailureAt).toBe(T);
    expect(
      await v.redeemRecoveryCode({ userId: 'a', code: 'K7QM-4X2P-9D3R-TB8W', now: T + 2000.5 }),
    ).toEqual({ ok: false, reason: 'invalid' });
    expect((await store.getThrottle('a', 'recovery')).lastFailureAt).toBe(T + 2000);
    // Later calls still work: nothing stored is malformed.
    expect(
      (await v.verifyTOTP({ userId: 'a', secret, token: at(T + 1000), now: new Date(T + 1000) }))
        .ok,
    ).toBe(true);
  });

  it('a Date is accepted wherever a time is', async () => {
    const v = createVerifier({ now: () => 0 });
    expect(
      (
        await v.verifyHOTP({
          userId: 'a',
          secret,
          token: generateHOTP(secret, 0),
          now: new Date(T),
        })
      ).ok,
    ).toBe(true);
    expect((await v.issueRecoveryCodes({ userId: 'a', count: 1, now: new Date(T) })).length).toBe(
      1,
    );
    expect(await v.throttleStatus('a', 'recovery', { now: new Date(T) })).toEqual({
      failures: 0,
      locked: false,
      retryAfterMs: 0,
    });
  });
});

describe('createVerifier: throttle scopes are checked', () => {
  it('types the scope as the union of the real ones, so a typo does not compile either', () => {
    // Checked by `npm run typecheck`: a `false` here does not compile.
    type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
    type Scope<M extends 'unlock' | 'throttleStatus'> = Parameters<Verifier[M]>[1];
    const exact: [
      Same<ThrottleScope, 'otp' | 'recovery'>,
      Same<Scope<'unlock'>, ThrottleScope | undefined>,
      Same<Scope<'throttleStatus'>, ThrottleScope | undefined>,
    ] = [true, true, true];
    expect(exact).toEqual([true, true, true]);
    const v = createVerifier({ now: () => T });
    // @ts-expect-error 'OTP' is not a ThrottleScope (`npm run typecheck` fails if it compiles)
    const typo = (): Promise<void> => v.unlock('a', 'OTP');
    expect(typo).toBeTypeOf('function');
  });

  for (const scope of ['OTP', 'recvery', '', 'default', 'otp ']) {
    it(`refuses scope ${JSON.stringify(scope)} in unlock and throttleStatus`, async () => {
      const v = createVerifier({ now: () => T });
      await expect(v.unlock('a', scope as never)).rejects.toMatchObject({
        name: 'RangeError',
        code: 'ERR_OPTION_INVALID',
      });
      await expect(v.throttleStatus('a', scope as never)).rejects.toMatchObject({
        name: 'RangeError',
        code: 'ERR_OPTION_INVALID',
      });
    });
  }

  it('refuses a scope that is not a string, and accepts the two real ones', async () => {
    const ctx = setup({ throttle: { freeFailures: 0, maxFailures: 1 } });
    await expect(ctx.verifier.unlock('a', 1 as never)).rejects.toThrow(TypeError);
    await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: 'abcdef' });
    await ctx.verifier.redeemRecoveryCode({ userId: 'a', code: 'nope' });
    expect((await ctx.verifier.throttleStatus('a', 'otp')).locked).toBe(true);
    expect((await ctx.verifier.throttleStatus('a', 'recovery')).locked).toBe(true);
    await ctx.verifier.unlock('a', 'recovery');
    expect((await ctx.verifier.throttleStatus('a', 'recovery')).locked).toBe(false);
    expect((await ctx.verifier.throttleStatus('a')).locked).toBe(true);
    await ctx.verifier.unlock('a');
    expect((await ctx.verifier.throttleStatus('a')).locked).toBe(false);
  });
});

describe('createVerifier: the store is checked when the verifier is created', () => {
  it('refuses an object that is not an OtpStore, naming what is missing', () => {
    expect(() => createVerifier({ store: {} as never })).toThrow(
      /"store\.attemptTotp" is not a function/,
    );
    const { getRecoveryCodeSet: _, ...partial } = createMemoryStore();
    expect(() => createVerifier({ store: partial as never })).toThrow(
      /"store\.getRecoveryCodeSet" is not a function/,
    );
    const noFlag = { ...createMemoryStore(), distributedSafe: 'yes' };
    expect(() => createVerifier({ store: noFlag as never })).toThrow(
      /"store\.distributedSafe" is not a boolean/,
    );
    for (const v of [null, 42, 'redis'])
      expect(() => createVerifier({ store: v as never })).toThrow(TypeError);
  });
});

describe('createVerifier: throttle with freeFailures 0', () => {
  it('the first delay is baseDelayMs, then it doubles', async () => {
    const ctx = setup({ throttle: { freeFailures: 0, baseDelayMs: 1000, maxDelayMs: 60_000 } });
    await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: 'abcdef' });
    expect(await ctx.verifier.throttleStatus('a')).toEqual({
      failures: 1,
      locked: false,
      retryAfterMs: 1000,
    });
    ctx.advance(1000);
    await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: 'abcdef' });
    expect(await ctx.verifier.throttleStatus('a')).toEqual({
      failures: 2,
      locked: false,
      retryAfterMs: 2000,
    });
  });
});

describe('createVerifier: store round trips', () => {
  const calls = async (
    run: (v: Verifier) => Promise<unknown>,
    extra: Parameters<typeof createVerifier>[0] = {},
  ): Promise<string[]> => {
    const { store, calls: seen } = recordingStore();
    const v = createVerifier({ store, now: () => T, recoveryHash: { logN: 10 }, ...extra });
    await run(v);
    return seen;
  };

  it('a TOTP attempt with its secret is ONE store call, success or refusal', async () => {
    expect(await calls((v) => v.verifyTOTP({ userId: 'a', secret, token: at(T) }))).toEqual([
      'attemptTotp',
    ]);
    expect(
      await calls((v) => v.verifyTOTP({ userId: 'a', secret, token: at(T + 300_000) })),
    ).toEqual(['attemptTotp']);
    expect(await calls((v) => v.verifyTOTP({ userId: 'a', secret, token: 'nope!!' }))).toEqual([
      'attemptTotp',
    ]);
    expect(await calls((v) => v.confirmTOTP({ userId: 'a', secret, token: at(T) }))).toEqual([
      'attemptTotp',
    ]);
  });

  it('a lazy secret, an HOTP code or a recovery code take two calls; a refusal one', async () => {
    expect(
      await calls((v) => v.verifyTOTP({ userId: 'a', secret: () => secret, token: at(T) })),
    ).toEqual(['beginAttempt', 'settleAttempt']);
    expect(
      await calls((v) =>
        v.verifyTOTP({ userId: 'a', secret: () => secret, token: at(T + 300_000) }),
      ),
    ).toEqual(['beginAttempt']);
    expect(
      await calls((v) => v.verifyHOTP({ userId: 'a', secret, token: generateHOTP(secret, 1) })),
    ).toEqual(['beginAttempt', 'settleAttempt']);
    expect(
      await calls((v) => v.redeemRecoveryCode({ userId: 'a', code: 'K7QM-4X2P-9D3R-TB8W' })),
    ).toEqual(['beginAttempt']);
  });

  it('a lazy secret is never opened while the account is throttled', async () => {
    const ctx = setup({ throttle: { freeFailures: 1, baseDelayMs: 60_000 } });
    await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: 'abcdef' });
    const open = vi.fn(() => secret);
    expect(
      await ctx.verifier.verifyTOTP({ userId: 'a', secret: open, token: at(ctx.now) }),
    ).toMatchObject({ reason: 'throttled' });
    expect(open).not.toHaveBeenCalled();
  });
});

describe('createVerifier: lock and unlock events', () => {
  it('the failure that locks the account emits "locked" once; unlock emits "unlocked"', async () => {
    const ctx = setup({ throttle: { freeFailures: 3, maxFailures: 3 } });
    for (let i = 0; i < 5; i++)
      await ctx.verifier.verifyTOTP({ userId: 'a', secret, token: 'abcdef' });
    expect(ctx.events.filter((e) => e.type === 'locked')).toEqual([
      { type: 'locked', userId: 'a', scope: 'otp' },
    ]);
    expect(
      ctx.events.filter((e) => e.type === 'failure').map((e) => (e as { reason: string }).reason),
    ).toEqual(['malformed', 'malformed', 'malformed', 'locked', 'locked']);
    await ctx.verifier.unlock('a');
    expect(ctx.events.at(-1)).toEqual({ type: 'unlocked', userId: 'a', scope: 'otp' });
  });
});
