/**
 * The two-factor flow contract: every rule of `createTwoFactor`, checked end to end on a store
 * (or a registry and a hot-state store apart), concurrency included. Framework-agnostic: it
 * returns named async cases that throw on failure.
 * @module
 */
import { decodeBase32, encodeBase32 } from '../base32.js';
import { generateHOTP } from '../hotp.js';
import { generateTOTP } from '../totp.js';
import { buildOtpauthURI } from '../uri/build.js';
import { FACTOR_STORE_METHODS, OTP_STORE_METHODS } from '../_guard.js';
import { OtpkitError } from '../errors.js';
import { encodeBase64url } from '../_encoding.js';
import type { FactorStore, OtpStore } from '../store/types.js';
import type { Delivery } from '../twofactor/oob.js';
import type { TwoFactorEvent, TwoFactorOptions, VerificationResult } from '../twofactor/types.js';
import { createTwoFactor, type TwoFactor } from '../twofactor/twofactor.js';
import { createVerifier } from '../verifier/verifier.js';
import { check, eq, heldReads, ids, suite, type ContractCase } from './_check.js';
import { faultyStore, type FactorStoreMethod, type OtpStoreMethod } from './faults.js';

/** The stores under test: one for both contracts, or the registry and the hot state apart. */
export type TwoFactorStores =
  | { readonly store: OtpStore & FactorStore }
  | { readonly factors: FactorStore; readonly state: OtpStore };

/** Options of {@link twoFactorContract}. */
export interface TwoFactorContractOptions {
  /** Parallel callers in the race checks. @defaultValue 50 */
  readonly concurrency?: number | undefined;
  /** A prefix for the user ids the cases create. @defaultValue random */
  readonly userPrefix?: string | undefined;
}

const T0 = Date.UTC(2031, 5, 1, 12, 0, 0);
const KEK1 = /* @__PURE__ */ new Uint8Array(32).map((_, i) => i + 1);
const KEK2 = /* @__PURE__ */ new Uint8Array(32).map((_, i) => 255 - i);

/** One app server's view: the flow, its clock and what it emitted. */
interface Server {
  readonly tf: TwoFactor;
  readonly events: TwoFactorEvent[];
  now: number;
  advance(ms: number): void;
}

/** A server on the stores; several servers of one case share the stores (and a clock). */
const server = (
  stores: TwoFactorStores,
  extra: Partial<TwoFactorOptions> = {},
  clock?: { now: number },
): Server => {
  const c = clock ?? { now: T0 };
  const events: TwoFactorEvent[] = [];
  const tf = createTwoFactor({
    ...stores,
    issuer: 'ACME',
    keys: { current: 'k1', keys: { k1: KEK1 } },
    now: () => c.now,
    recoveryCodes: { hash: { logN: 10 } },
    onEvent: (e) => void events.push(e),
    ...extra,
  } as TwoFactorOptions);
  return {
    tf,
    events,
    get now() {
      return c.now;
    },
    set now(v: number) {
      c.now = v;
    },
    advance: (ms) => {
      c.now += ms;
    },
  };
};
/** Enrolls and confirms a TOTP factor; returns its id, secret and the recovery codes if any. */
const enroll = async (s: Server, userId: string, stepUpToken?: string) => {
  const b = await s.tf.beginEnrollment({
    userId,
    account: `${userId}@example.com`,
    ...(stepUpToken === undefined ? {} : { stepUpToken }),
  });
  check(b.ok, `beginEnrollment: ${JSON.stringify(b)}`);
  if (!b.ok) throw new Error('unreachable');
  const secret = decodeBase32(b.manualKey.replace(/ /g, ''));
  const c = await s.tf.confirmEnrollment({
    userId,
    factorId: b.factorId,
    code: generateTOTP(secret, { now: s.now }),
  });
  check(c.ok, `confirmEnrollment: ${JSON.stringify(c)}`);
  s.advance(30_000); // the confirmation consumed this step
  return { factorId: b.factorId, secret, codes: c.ok ? (c.recoveryCodes ?? []) : [] };
};
/**
 * Builds the two-factor contract cases.
 *
 * @param make - creates the stores; called once per case, and each call must return stores that are
 *   empty and isolated (a fresh prefix or database): some cases scan every factor of the store.
 * @param options - {@link TwoFactorContractOptions}.
 * @returns the cases: server-made secrets, pending factors that expire and never gate sign-in,
 *   confirmation consuming its step, challenges (unguessable, hashed at rest, bound to their user,
 *   single use, short-lived, attempt-capped), one attempt per code whichever factor matches,
 *   recovery codes through the same call, step-up tokens guarding every change, sealed secrets
 *   bound to user and factor and re-sealed under a new key, imports, erasure, audit events with no
 *   secret, and races: 50 parallel answers with one valid code → one success; 50 parallel
 *   confirmations → one factor; a removed factor's codes fail at once on every server.
 * @example
 * ```ts
 * for (const c of twoFactorContract(() => ({ store: createMemoryStore() }))) it(c.name, c.run, c.timeoutMs);
 * ```
 */
export function twoFactorContract(
  make: () => TwoFactorStores | Promise<TwoFactorStores>,
  options?: TwoFactorContractOptions,
): ContractCase[] {
  const n = options?.concurrency ?? 50;
  const uid = ids(options?.userPrefix);
  const { cases, add } = suite();

  const challenge = async (s: Server, userId: string): Promise<string> => {
    const r = await s.tf.startChallenge({ userId });
    check(r.required, `startChallenge: ${JSON.stringify(r)}`);
    return r.required ? r.challengeId : '';
  };
  const reason = (r: VerificationResult | { ok: boolean; reason?: string }): string =>
    r.ok ? 'ok' : (r as { reason: string }).reason;
  /** The reason a code is refused in a fresh challenge of the user ('ok' if it is not). */
  const answer = async (s: Server, userId: string, code: string): Promise<string> =>
    reason(await s.tf.verifyChallenge({ challengeId: await challenge(s, userId), code }));

  add(
    'enrollment: the server makes the secret; a pending factor expires, never gates sign-in and never counts to the limit',
    async () => {
      const s = server(await make(), { maxFactors: 1 });
      const u = uid();
      const b = await s.tf.beginEnrollment({ userId: u, account: 'alice@example.com' });
      check(b.ok, 'begun');
      if (!b.ok) return;
      check(
        /^otpauth:\/\/totp\/ACME:alice%40example.com\?secret=[A-Z2-7]{32}&issuer=ACME$/.test(b.uri),
        `an otpauth URI, got ${b.uri.replace(/secret=[^&]*/, 'secret=…')}`,
      );
      check(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/.test(b.manualKey), 'the key in groups of four');
      eq(b.expiresAt, T0 + 600_000, 'pending for 10 minutes');
      await s.tf
        .beginEnrollment({ userId: u, account: 'alice@example.com' })
        .catch((e: unknown) => e);
      let refused: unknown;
      try {
        await s.tf.beginEnrollment({
          userId: u,
          account: 'a',
          secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
        } as never);
      } catch (e) {
        refused = e;
      }
      check(refused instanceof RangeError, 'a client-given secret is refused');
      eq(
        await s.tf.startChallenge({ userId: u }),
        { required: false, reason: 'not-enabled' },
        'pending factors never gate sign-in',
      );
      eq(await s.tf.isEnabled(u), false, 'not enabled');
      eq((await s.tf.listFactors(u)).length, 0, 'pending factors are not listed by default');
      eq((await s.tf.listFactors(u, { includePending: true })).length, 2, 'unless asked');
      const secret = decodeBase32(b.manualKey.replace(/ /g, ''));
      s.advance(600_000);
      eq(
        reason(
          await s.tf.confirmEnrollment({
            userId: u,
            factorId: b.factorId,
            code: generateTOTP(secret, { now: s.now }),
          }),
        ),
        'expired',
        'confirmed too late',
      );
      // The limit (1) counts confirmed factors only: two pending ones did not fill it.
      const ok = await enroll(s, u);
      eq(
        (await s.tf.listFactors(u)).map((f) => f.id),
        [ok.factorId],
        'one confirmed factor',
      );
      check(
        !JSON.stringify(await s.tf.listFactors(u, { includePending: true })).includes(
          encodeBase32(ok.secret),
        ),
        'no secret is ever listed',
      );
    },
  );

  add(
    'a pending enrollment can be shown again, the same key and URI; never a confirmed, expired, removed or other user’s one',
    async () => {
      const s = server(await make());
      const u = uid();
      const b = await s.tf.beginEnrollment({ userId: u, account: 'alice@example.com' });
      if (!b.ok) throw new Error('begin');
      const again = await s.tf.getEnrollment({
        userId: u,
        factorId: b.factorId,
        account: 'alice@example.com',
      });
      eq(
        again,
        {
          ok: true,
          type: 'totp',
          factorId: b.factorId,
          uri: b.uri,
          manualKey: b.manualKey,
          expiresAt: b.expiresAt,
        },
        'shown again',
      );
      eq(
        await s.tf.getEnrollment({ userId: uid(), factorId: b.factorId, account: 'a' }),
        { ok: false, reason: 'not-found' },
        "another user's",
      );
      eq(
        await s.tf.getEnrollment({
          userId: u,
          factorId: b.factorId,
          account: 'a',
          now: b.expiresAt,
        }),
        { ok: false, reason: 'not-found' },
        'expired',
      );
      const secret = decodeBase32(b.manualKey.replace(/ /g, ''));
      check(
        (
          await s.tf.confirmEnrollment({
            userId: u,
            factorId: b.factorId,
            code: generateTOTP(secret, { now: s.now }),
          })
        ).ok,
        'confirmed',
      );
      eq(
        await s.tf.getEnrollment({ userId: u, factorId: b.factorId, account: 'a' }),
        { ok: false, reason: 'not-found' },
        'a confirmed factor’s key is never shown again',
      );
      eq(
        await s.tf.getEnrollment({ userId: u, factorId: 'nope', account: 'a' }),
        { ok: false, reason: 'not-found' },
        'unknown',
      );
    },
  );

  add(
    'confirmation: consumes its step, brings recovery codes with the first factor only, refuses wrong, replayed, unknown and others’ factors',
    async () => {
      const s = server(await make());
      const u = uid();
      const b = await s.tf.beginEnrollment({ userId: u, account: 'a' });
      if (!b.ok) throw new Error('begin');
      const secret = decodeBase32(b.manualKey.replace(/ /g, ''));
      const code = generateTOTP(secret, { now: s.now });
      const wrong = code === '000000' ? '111111' : '000000';
      eq(
        reason(await s.tf.confirmEnrollment({ userId: u, factorId: b.factorId, code: wrong })),
        'invalid',
        'a wrong code',
      );
      eq(
        reason(await s.tf.confirmEnrollment({ userId: u, factorId: b.factorId, code: ` ${code}` })),
        'malformed',
        'never trimmed',
      );
      eq(
        reason(await s.tf.confirmEnrollment({ userId: uid(), factorId: b.factorId, code })),
        'not-found',
        "another user's factor",
      );
      eq(
        reason(await s.tf.confirmEnrollment({ userId: u, factorId: 'nope', code })),
        'not-found',
        'an unknown factor',
      );
      const c = await s.tf.confirmEnrollment({ userId: u, factorId: b.factorId, code });
      check(c.ok, `confirmed: ${JSON.stringify(c)}`);
      if (!c.ok) return;
      eq(c.recoveryCodes?.length, 10, 'ten recovery codes with the first factor');
      eq(
        [c.factor.id, c.factor.type, c.factor.status, c.factor.confirmedAt],
        [b.factorId, 'totp', 'confirmed', T0],
        'the factor',
      );
      eq(
        reason(await s.tf.confirmEnrollment({ userId: u, factorId: b.factorId, code })),
        'not-found',
        'confirmed twice',
      );
      const ch = await challenge(s, u);
      eq(
        reason(await s.tf.verifyChallenge({ challengeId: ch, code })),
        'replayed',
        'the setup code is not a sign-in code',
      );
      const r = await s.tf.verifyChallenge({
        challengeId: ch,
        code: generateTOTP(secret, { now: s.now + 30_000 }),
      });
      check(r.ok, 'the next code signs in');
      const second = await s.tf.beginEnrollment({
        userId: u,
        account: 'a',
        stepUpToken: r.ok ? r.stepUpToken : '',
      });
      if (!second.ok) throw new Error('second');
      const s2 = decodeBase32(second.manualKey.replace(/ /g, ''));
      const c2 = await s.tf.confirmEnrollment({
        userId: u,
        factorId: second.factorId,
        code: generateTOTP(s2, { now: s.now }),
      });
      eq(c2.ok && c2.recoveryCodes, undefined, 'no new recovery codes with a second factor');
    },
  );

  add(
    'challenges: unguessable, only hashed at rest, bound to their user, single use, short-lived, attempt-capped',
    async () => {
      const stores = await make();
      const seen: string[] = [];
      const record = <S extends object>(st: S): S =>
        new Proxy(st, {
          get(target, prop, receiver): unknown {
            const v: unknown = Reflect.get(target, prop, receiver);
            return typeof v === 'function'
              ? (...args: unknown[]) => {
                  seen.push(
                    JSON.stringify(args, (_, x: unknown) =>
                      typeof x === 'bigint' ? String(x) : x,
                    ),
                  );
                  return (v as (...a: unknown[]) => unknown).apply(target, args);
                }
              : v;
          },
        });
      const watched: TwoFactorStores =
        'store' in stores
          ? { store: record(stores.store) }
          : { factors: record(stores.factors), state: record(stores.state) };
      const s = server(watched, { throttle: { freeFailures: 100, maxFailures: 100 } });
      const u = uid();
      const { secret } = await enroll(s, u);
      const id = await challenge(s, u);
      check(
        /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/.test(id),
        'at least 128 random bits, base64url, then its user',
      );
      check(!seen.some((x) => x.includes(id)), 'the challenge id never reaches a store');
      const code = () => generateTOTP(secret, { now: s.now });
      eq(
        reason(await s.tf.verifyChallenge({ challengeId: id, code: code(), userId: uid() })),
        'expired',
        "another user's session",
      );
      // The same random part naming another user, a user part that is not base64url of UTF-8,
      // and no user part at all: none of them names this challenge.
      const token = id.slice(0, 22);
      const other = uid();
      const forged = `${token}.${encodeBase64url(new TextEncoder().encode(other))}`;
      for (const [bad, why] of [
        [forged, 'the token under another user'],
        [
          `${token}.${encodeBase64url(new Uint8Array([0xff, 0xfe]))}`,
          'a user part that is not UTF-8',
        ],
        [`${token}.`, 'an empty user part'],
        [token, 'the token alone'],
      ] as const)
        eq(reason(await s.tf.verifyChallenge({ challengeId: bad, code: code() })), 'expired', why);
      eq(
        reason(await s.tf.verifyChallenge({ challengeId: forged, code: code(), userId: other })),
        'expired',
        'the forged id with the user it names',
      );
      // Another random part under this user's own name: no challenge, and nothing counted.
      const guessed = `${'A'.repeat(22)}${id.slice(22)}`;
      eq(
        reason(await s.tf.verifyChallenge({ challengeId: guessed, code: code() })),
        'expired',
        'a guessed token',
      );
      eq(
        (await s.tf.throttleStatus(u)).failures,
        0,
        'no failure counted for a forged or guessed id',
      );
      const ok = await s.tf.verifyChallenge({ challengeId: id, code: code(), userId: u });
      check(ok.ok && ok.userId === u && ok.method === 'totp', `answered: ${JSON.stringify(ok)}`);
      check(
        ok.ok && !seen.some((x) => x.includes(ok.stepUpToken)),
        'the step-up token never reaches a store',
      );
      s.advance(30_000);
      eq(
        reason(await s.tf.verifyChallenge({ challengeId: id, code: code() })),
        'expired',
        'single use',
      );
      const late = await challenge(s, u);
      s.advance(300_000);
      eq(
        reason(await s.tf.verifyChallenge({ challengeId: late, code: code() })),
        'expired',
        'dead after 5 minutes',
      );
      const capped = await challenge(s, u);
      for (let i = 0; i < 5; i++)
        eq(
          reason(await s.tf.verifyChallenge({ challengeId: capped, code: 'abcdef' })),
          'malformed',
          `attempt ${i + 1}`,
        );
      eq(
        reason(await s.tf.verifyChallenge({ challengeId: capped, code: code() })),
        'exhausted',
        'the valid code after 5 attempts',
      );
      eq(
        reason(
          await s.tf.verifyChallenge({ challengeId: 'never-issued-challenge-id', code: code() }),
        ),
        'expired',
        'an id never issued',
      );
    },
  );

  add(
    'one attempt per code, checked against every factor: a typo then the second device’s code signs in',
    async () => {
      const s = server(await make(), { throttle: { freeFailures: 2, baseDelayMs: 60_000 } });
      const u = uid();
      const a = await enroll(s, u);
      const ch0 = await challenge(s, u);
      const first = await s.tf.verifyChallenge({
        challengeId: ch0,
        code: generateTOTP(a.secret, { now: s.now }),
      });
      const b = await enroll(s, u, first.ok ? first.stepUpToken : undefined);
      const ch = await challenge(s, u);
      const typo = generateTOTP(a.secret, { now: s.now }) === '123456' ? '654321' : '123456';
      eq(
        reason(await s.tf.verifyChallenge({ challengeId: ch, code: typo })),
        'invalid',
        'a typo: one failure, not one per device',
      );
      eq((await s.tf.throttleStatus(u)).failures, 1, 'counted once');
      const r = await s.tf.verifyChallenge({
        challengeId: ch,
        code: generateTOTP(b.secret, { now: s.now }),
      });
      check(r.ok && r.factorId === b.factorId, `the second device: ${JSON.stringify(r)}`);
      eq((await s.tf.throttleStatus(u)).failures, 0, 'reset by the success');
      const last = (await s.tf.listFactors(u)).find((f) => f.id === b.factorId)?.lastUsedAt;
      eq(last, s.now, 'lastUsedAt');
    },
  );

  add('every factor’s secret is opened for every code, whichever matches', async () => {
    const stores = await make();
    let opened = 0;
    const s = server(stores, {
      keys: {
        seal: (secret, context) =>
          `test-envelope:${encodeBase32(new TextEncoder().encode(context))}:${encodeBase32(secret)}`,
        open: (sealed, context) => {
          opened++;
          const [, ctxText, b32] = sealed.split(':');
          if (ctxText !== encodeBase32(new TextEncoder().encode(context)))
            throw new OtpkitError('ERR_SECRET_SEALED', 'bound to another factor');
          return decodeBase32(b32 as string);
        },
      },
    });
    const u = uid();
    const a = await enroll(s, u);
    const ch0 = await challenge(s, u);
    const r0 = await s.tf.verifyChallenge({
      challengeId: ch0,
      code: generateTOTP(a.secret, { now: s.now }),
    });
    const b = await enroll(s, u, r0.ok ? r0.stepUpToken : undefined);
    for (const code of [
      generateTOTP(a.secret, { now: s.now }),
      generateTOTP(b.secret, { now: s.now + 30_000 }),
      '000000',
    ]) {
      const ch = await challenge(s, u);
      opened = 0;
      await s.tf.verifyChallenge({ challengeId: ch, code });
      eq(opened, 2, 'both secrets opened');
      s.advance(30_000);
    }
  });

  add(
    'recovery codes: accepted by the same call, once each; the status counts down; regeneration needs a fresh second factor',
    async () => {
      const s = server(await make());
      const u = uid();
      const { secret, codes } = await enroll(s, u);
      eq(await s.tf.recoveryCodeStatus(u), { remaining: 10, total: 10, issuedAt: T0 }, 'status');
      const ch = await challenge(s, u);
      const r = await s.tf.verifyChallenge({
        challengeId: ch,
        code: (codes[2] as string).toLowerCase().replace(/-/g, ' '),
      });
      check(
        r.ok && r.method === 'recovery' && r.factorId === null && r.recoveryCodesRemaining === 9,
        `a recovery code: ${JSON.stringify(r)}`,
      );
      eq(await answer(s, u, codes[2] as string), 'invalid', 'used twice');
      eq((await s.tf.recoveryCodeStatus(u))?.remaining, 9, 'nine left');
      eq(
        reason(await s.tf.regenerateRecoveryCodes({ userId: u })),
        'step-up-required',
        'without proof',
      );
      const step = await s.tf.verifyCode({ userId: u, code: generateTOTP(secret, { now: s.now }) });
      check(step.ok, 'step-up');
      const g = await s.tf.regenerateRecoveryCodes({
        userId: u,
        stepUpToken: step.ok ? step.stepUpToken : '',
      });
      check(g.ok && g.codes.length === 10, 'regenerated');
      eq(
        reason(
          await s.tf.verifyChallenge({
            challengeId: await challenge(s, u),
            code: codes[5] as string,
          }),
        ),
        'invalid',
        'an old code after regeneration',
      );
      eq(
        reason(
          await s.tf.regenerateRecoveryCodes({
            userId: u,
            stepUpToken: step.ok ? step.stepUpToken : '',
          }),
        ),
        'step-up-required',
        'a step-up token is single use',
      );
    },
  );

  add(
    'concurrent regenerations: one set is stored and handed out, the others fail with ERR_CONFLICT and show no codes',
    async () => {
      const made = await make();
      const state = 'store' in made ? made.store : made.state;
      const factors = 'store' in made ? made.store : made.factors;
      // Every regeneration reads the current set before any of them writes.
      const racing = heldReads(state, 'getRecoveryCodeSet', 3);
      const s = server({ factors, state: racing.store });
      const u = uid();
      const { codes: first } = await enroll(s, u);
      racing.arm();
      const results = await Promise.allSettled(
        [0, 1, 2].map(() => s.tf.regenerateRecoveryCodes({ userId: u, administrator: 'contract' })),
      );
      racing.disarm();
      const won = results.flatMap((r) =>
        r.status === 'fulfilled' && r.value.ok ? [r.value.codes] : [],
      );
      const lost = results.filter(
        (r) =>
          r.status === 'rejected' &&
          r.reason instanceof OtpkitError &&
          r.reason.code === 'ERR_CONFLICT' &&
          !/[0-9A-Z]{4}-[0-9A-Z]{4}/.test(r.reason.message),
      );
      eq(
        [won.length, lost.length],
        [1, 2],
        `one stored set, two conflicts: ${JSON.stringify(results.map((r) => r.status))}`,
      );
      const codes = won[0] ?? [];
      eq(
        (await s.tf.recoveryCodeStatus(u))?.total,
        codes.length,
        'the status counts the winner’s set',
      );
      const signedIn = await s.tf.verifyChallenge({
        challengeId: await challenge(s, u),
        code: codes[0] as string,
      });
      check(
        signedIn.ok && signedIn.method === 'recovery',
        `the winner’s codes work: ${JSON.stringify(signedIn)}`,
      );
      eq(await answer(s, u, first[0] as string), 'invalid', 'the old set is gone');
    },
  );

  add(
    'changing factors needs a fresh second factor: step-up tokens are single use, short-lived and the user’s own; administrators are named',
    async () => {
      const s = server(await make());
      const u = uid();
      const v = uid();
      const a = await enroll(s, u);
      await enroll(s, v);
      const token = async (userId: string, secret: Uint8Array) => {
        const r = await s.tf.verifyCode({ userId, code: generateTOTP(secret, { now: s.now }) });
        s.advance(30_000);
        return r.ok ? r.stepUpToken : '';
      };
      eq(
        reason(await s.tf.beginEnrollment({ userId: u, account: 'a' })),
        'step-up-required',
        'adding a factor',
      );
      eq(
        reason(await s.tf.removeFactor({ userId: u, factorId: a.factorId })),
        'step-up-required',
        'removing one',
      );
      eq(reason(await s.tf.disableTwoFactor({ userId: u })), 'step-up-required', 'disabling 2FA');
      const t1 = await token(u, a.secret);
      eq(
        reason(await s.tf.disableTwoFactor({ userId: v, stepUpToken: t1 })),
        'step-up-required',
        "another user's token",
      );
      eq(
        (await s.tf.beginEnrollment({ userId: u, account: 'a', stepUpToken: t1 })).ok,
        true,
        'with a token',
      );
      eq(
        reason(await s.tf.beginEnrollment({ userId: u, account: 'a', stepUpToken: t1 })),
        'step-up-required',
        'the same token twice',
      );
      const t2 = await token(u, a.secret);
      s.advance(300_000);
      eq(
        reason(await s.tf.disableTwoFactor({ userId: u, stepUpToken: t2 })),
        'step-up-required',
        'an expired token',
      );
      eq(
        await s.tf.disableTwoFactor({ userId: u, administrator: 'support:alex' }),
        { ok: true },
        'an administrator',
      );
      const disabled = s.events.find((e) => e.type === 'two-factor-disabled' && e.userId === u);
      eq(
        disabled,
        { type: 'two-factor-disabled', userId: u, administrator: 'support:alex' },
        'audited',
      );
      eq(await s.tf.isEnabled(u), false, 'disabled');
      eq(await s.tf.recoveryCodeStatus(u), null, 'recovery codes removed with 2FA');
    },
  );

  add(
    'removing a factor: its codes fail at once on every server; removing the last one disables 2FA',
    async () => {
      const stores = await make();
      const clock = { now: T0 };
      const s1 = server(stores, {}, clock);
      const s2 = server(stores, {}, clock);
      const u = uid();
      const a = await enroll(s1, u);
      const r0 = await s1.tf.verifyCode({
        userId: u,
        code: generateTOTP(a.secret, { now: clock.now }),
      });
      clock.now += 30_000;
      const b = await enroll(s1, u, r0.ok ? r0.stepUpToken : undefined);
      // A challenge started before the removal, on the other server.
      const ch = await challenge(s2, u);
      const t = await s1.tf.verifyCode({
        userId: u,
        code: generateTOTP(b.secret, { now: clock.now }),
      });
      clock.now += 30_000;
      eq(
        await s1.tf.removeFactor({
          userId: u,
          factorId: a.factorId,
          stepUpToken: t.ok ? t.stepUpToken : '',
        }),
        { ok: true, disabled: false },
        'removed',
      );
      eq(
        reason(
          await s2.tf.verifyChallenge({
            challengeId: ch,
            code: generateTOTP(a.secret, { now: clock.now }),
          }),
        ),
        'expired',
        'a sign-in in flight is cancelled',
      );
      eq(
        reason(
          await s2.tf.verifyCode({ userId: u, code: generateTOTP(a.secret, { now: clock.now }) }),
        ),
        'invalid',
        "the removed factor's code, on the other server",
      );
      eq(
        (
          await s2.tf.verifyChallenge({
            challengeId: await challenge(s2, u),
            code: generateTOTP(b.secret, { now: clock.now }),
          })
        ).ok,
        true,
        'the remaining factor still works',
      );
      const t2 = await s2.tf.verifyCode({
        userId: u,
        code: generateTOTP(b.secret, { now: clock.now + 30_000 }),
      });
      eq(
        await s2.tf.removeFactor({
          userId: u,
          factorId: b.factorId,
          stepUpToken: t2.ok ? t2.stepUpToken : '',
        }),
        { ok: true, disabled: true },
        'the last one',
      );
      eq(
        await s1.tf.startChallenge({ userId: u }),
        { required: false, reason: 'not-enabled' },
        'disabled everywhere',
      );
      eq(
        reason(await s1.tf.removeFactor({ userId: u, factorId: 'nope' })),
        'not-found',
        'an unknown factor is a result',
      );
    },
  );

  add(
    'rename, list with lastUsedAt, and cancelling a pending enrollment without proof',
    async () => {
      const s = server(await make());
      const u = uid();
      const a = await enroll(s, u);
      eq(
        await s.tf.renameFactor({ userId: u, factorId: a.factorId, label: '  Work phone ' }),
        true,
        'renamed',
      );
      eq(
        await s.tf.renameFactor({ userId: uid(), factorId: a.factorId, label: 'x' }),
        false,
        "another user's factor",
      );
      const [f] = await s.tf.listFactors(u);
      eq(
        [f?.label, f?.type, f?.status, f?.createdAt, f?.confirmedAt],
        ['Work phone', 'totp', 'confirmed', T0, T0],
        'listed',
      );
      const step = await s.tf.verifyCode({
        userId: u,
        code: generateTOTP(a.secret, { now: s.now }),
      });
      const pending = await s.tf.beginEnrollment({
        userId: u,
        account: 'a',
        stepUpToken: step.ok ? step.stepUpToken : '',
      });
      if (!pending.ok) throw new Error('pending');
      eq(
        await s.tf.removeFactor({ userId: u, factorId: pending.factorId }),
        { ok: true, disabled: false },
        'a pending enrollment is cancelled without proof',
      );
      eq((await s.tf.listFactors(u))[0]?.lastUsedAt, s.now, 'lastUsedAt of the confirmed one');
    },
  );

  add(
    `${n} parallel answers with one valid code: exactly one success; a challenge never succeeds twice`,
    async () => {
      const s = server(await make(), {
        throttle: { freeFailures: 100, maxFailures: 100 },
        challengeAttempts: 100,
      });
      const u = uid();
      const { secret } = await enroll(s, u);
      const ch = await challenge(s, u);
      const code = generateTOTP(secret, { now: s.now });
      const results = await Promise.all(
        Array.from({ length: n }, () => s.tf.verifyChallenge({ challengeId: ch, code, userId: u })),
      );
      eq(results.filter((r) => r.ok).length, 1, 'successes');
      check(
        results.every((r) => r.ok || ['replayed', 'expired'].includes(r.reason)),
        'the others are replays or a spent challenge',
      );
      const ch2 = await challenge(s, u);
      const codes = [0, 1].map((k) => generateTOTP(secret, { now: s.now + k * 30_000 }));
      s.advance(30_000);
      const two = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          s.tf.verifyChallenge({ challengeId: ch2, code: codes[i % 2] as string }),
        ),
      );
      eq(two.filter((r) => r.ok).length, 1, 'one challenge, two valid codes: one success');
    },
  );

  add(`${n} parallel confirmations of one enrollment: one factor`, async () => {
    const s = server(await make(), { throttle: { freeFailures: 100, maxFailures: 100 } });
    const u = uid();
    const b = await s.tf.beginEnrollment({ userId: u, account: 'a' });
    if (!b.ok) throw new Error('begin');
    const secret = decodeBase32(b.manualKey.replace(/ /g, ''));
    const codes = [-1, 0, 1].map((k) => generateTOTP(secret, { now: s.now + k * 30_000 }));
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        s.tf.confirmEnrollment({ userId: u, factorId: b.factorId, code: codes[i % 3] as string }),
      ),
    );
    eq(results.filter((r) => r.ok).length, 1, 'confirmations');
    eq(
      results.filter((r) => r.ok && r.recoveryCodes !== undefined).length,
      1,
      'one set of recovery codes',
    );
    eq((await s.tf.listFactors(u)).length, 1, 'one factor');
  });

  add(
    'secrets are sealed with the app’s keys, bound to their user and factor, and re-sealed under a new key when used',
    async () => {
      const stores = await make();
      const clock = { now: T0 };
      const old = server(stores, {}, clock);
      const u = uid();
      const { secret, factorId } = await enroll(old, u);
      const rotated = server(
        stores,
        { keys: { current: 'k2', keys: { k1: KEK1, k2: KEK2 } } },
        clock,
      );
      const r = await rotated.tf.verifyChallenge({
        challengeId: await challenge(rotated, u),
        code: generateTOTP(secret, { now: clock.now }),
      });
      check(r.ok, 'signed in with the old key');
      check(
        rotated.events.some((e) => e.type === 'factor-resealed' && e.factorId === factorId),
        're-sealed when used',
      );
      clock.now += 30_000;
      const k2only = server(stores, { keys: { current: 'k2', keys: { k2: KEK2 } } }, clock);
      eq(
        (await k2only.tf.verifyCode({ userId: u, code: generateTOTP(secret, { now: clock.now }) }))
          .ok,
        true,
        'opens with the new key alone',
      );
      // A batch re-seals the rest.
      const v = uid();
      const w = uid();
      await enroll(old, v);
      await enroll(old, w);
      const progress: number[] = [];
      const done = await rotated.tf.resealFactors({
        batchSize: 1,
        onProgress: (p) => void progress.push(p.resealed),
      });
      check(done.resealed >= 2 && done.scanned >= 3, `batch re-seal: ${JSON.stringify(done)}`);
      check(progress.length >= 3, 'progress after every batch');
      eq((await rotated.tf.resealFactors()).resealed, 0, 'nothing left to re-seal');
    },
  );

  add(
    'imports: a base32 secret or an otpauth URI becomes a confirmed factor; its last used step is not accepted again',
    async () => {
      const s = server(await make());
      const u = uid();
      const secret = new Uint8Array(20).map((_, i) => i + 100);
      const step = Math.floor(s.now / 30_000);
      const imported = await s.tf.importFactor({
        userId: u,
        secret: encodeBase32(secret).toLowerCase(),
        lastUsedStep: step,
        label: 'Old app',
      });
      check(imported.ok, `imported: ${JSON.stringify(imported)}`);
      eq(
        reason(
          await s.tf.verifyChallenge({
            challengeId: await challenge(s, u),
            code: generateTOTP(secret, { now: s.now }),
          }),
        ),
        'replayed',
        'the last code of the old system',
      );
      eq(
        (await s.tf.verifyCode({ userId: u, code: generateTOTP(secret, { now: s.now + 30_000 }) }))
          .ok,
        true,
        'the next one works',
      );
      const hk = new Uint8Array(20).map((_, i) => i * 3);
      const uri = buildOtpauthURI({
        type: 'hotp',
        secret: hk,
        account: 'bob',
        issuer: 'Legacy',
        counter: 41,
      });
      const h = await s.tf.importFactor({ userId: u, uri });
      check(
        h.ok && h.factor.type === 'hotp' && h.factor.label === 'Legacy (bob)',
        `an HOTP URI: ${JSON.stringify(h)}`,
      );
      eq(
        reason(await s.tf.verifyCode({ userId: u, code: generateHOTP(hk, 40) })),
        'invalid',
        'a counter before the imported one',
      );
      eq(
        (await s.tf.verifyCode({ userId: u, code: generateHOTP(hk, 42) })).ok,
        true,
        'a counter after it',
      );
    },
  );

  add(
    'eraseUser leaves nothing readable: factors, recovery codes, challenges, throttle counts',
    async () => {
      const s = server(await make());
      const u = uid();
      const { secret } = await enroll(s, u);
      const ch = await challenge(s, u);
      await s.tf.verifyChallenge({ challengeId: ch, code: 'abcdef' });
      await s.tf.eraseUser(u);
      eq(await s.tf.listFactors(u, { includePending: true }), [], 'factors');
      eq(await s.tf.recoveryCodeStatus(u), null, 'recovery codes');
      eq((await s.tf.throttleStatus(u)).failures, 0, 'throttle');
      eq(
        reason(
          await s.tf.verifyChallenge({
            challengeId: ch,
            code: generateTOTP(secret, { now: s.now }),
          }),
        ),
        'expired',
        'challenges',
      );
      check(
        s.events.some((e) => e.type === 'user-erased' && e.userId === u),
        'an event',
      );
    },
  );

  add(
    'events cover the lifecycle, lock once on the transition, and never carry a secret, code or token',
    async () => {
      const s = server(await make(), { throttle: { freeFailures: 3, maxFailures: 3 } });
      const u = uid();
      const { secret, codes } = await enroll(s, u);
      const ch = await challenge(s, u);
      const r = await s.tf.verifyChallenge({
        challengeId: ch,
        code: generateTOTP(secret, { now: s.now }),
      });
      for (let i = 0; i < 4; i++)
        await s.tf.verifyChallenge({ challengeId: await challenge(s, u), code: 'abcdef' });
      await s.tf.unlock(u, 'otp', { administrator: 'support:alex' });
      const types = s.events.map((e) => e.type);
      for (const t of [
        'factor-enrolled',
        'factor-confirmed',
        'recovery-codes-issued',
        'challenge-started',
        'challenge-succeeded',
        'failure',
        'locked',
        'unlocked',
      ])
        check(types.includes(t as TwoFactorEvent['type']), `a ${t} event`);
      eq(types.filter((t) => t === 'locked').length, 1, 'locked once');
      const text = JSON.stringify(s.events);
      for (const secretText of [
        encodeBase32(secret),
        ...codes,
        ...codes.map((c) => c.replace(/-/g, '')),
        r.ok ? r.stepUpToken : 'x',
        ch,
      ])
        check(
          !text.includes(secretText),
          'no secret, recovery code, token or challenge id in an event',
        );
    },
  );

  add(
    'misuse throws TypeError/RangeError naming the argument; unknown, expired and others’ things are results',
    async () => {
      const s = server(await make());
      const u = uid();
      const misuse = async (run: () => Promise<unknown>, name: string): Promise<void> => {
        let e: unknown;
        try {
          await run();
        } catch (x) {
          e = x;
        }
        check(
          (e instanceof TypeError || e instanceof RangeError) &&
            (e as Error).message.includes(`"${name}"`),
          `misuse of "${name}": ${String(e)}`,
        );
      };
      await misuse(() => s.tf.beginEnrollment({ userId: '', account: 'a' }), 'userId');
      await misuse(
        () => s.tf.beginEnrollment({ userId: u, account: 'a', label: '\u202eevil' }),
        'label',
      );
      await misuse(
        () => s.tf.confirmEnrollment({ userId: u, factorId: 'f', code: 123456 as never }),
        'code',
      );
      await misuse(
        () => s.tf.verifyChallenge({ challengeId: 42 as never, code: '123456' }),
        'challengeId',
      );
      await misuse(
        () => s.tf.verifyChallenge({ challengeId: 'x', code: '123456', now: Number.NaN }),
        'now',
      );
      await misuse(
        () => s.tf.disableTwoFactor({ userId: u, stepUpToken: 't', administrator: 'a' }),
        'stepUpToken',
      );
      await misuse(() => s.tf.unlock(u, 'OTP' as never), 'scope');
      eq(
        reason(await s.tf.confirmEnrollment({ userId: u, factorId: 'unknown', code: '123456' })),
        'not-found',
        'an unknown factor',
      );
      eq(
        reason(await s.tf.verifyChallenge({ challengeId: 'unknown-challenge-id', code: '123456' })),
        'expired',
        'an unknown challenge',
      );
      eq(
        await s.tf.disableTwoFactor({ userId: u }),
        { ok: false, reason: 'not-enabled' },
        'nothing to disable',
      );
    },
  );

  /** A sign-in from a browser: start (with its cookies), answer, and the cookies it gets back. */
  const signIn = async (
    s: Server,
    userId: string,
    code: (now: number) => string,
    cookies: { trusted?: string; known?: string } = {},
  ) => {
    const st = await s.tf.startChallenge({
      userId,
      ...(cookies.trusted === undefined ? {} : { trustedDeviceToken: cookies.trusted }),
      ...(cookies.known === undefined ? {} : { knownDeviceToken: cookies.known }),
    });
    if (!st.required) return { start: st, result: undefined, known: cookies.known };
    const known = st.knownDeviceToken ?? cookies.known;
    const result = await s.tf.verifyChallenge({
      challengeId: st.challengeId,
      code: code(s.now),
      userId,
    });
    return { start: st, result, known: result.ok ? (result.knownDeviceToken ?? known) : known };
  };

  add(
    'remembered devices: a fresh second factor trusts a browser; its token skips the challenge, rotates on use, and a replayed old token is refused and reported',
    async () => {
      const s = server(await make());
      const u = uid();
      const { secret } = await enroll(s, u);
      eq(
        reason(await s.tf.trustDevice({ userId: u })),
        'step-up-required',
        'trusting needs a fresh second factor',
      );
      const step = await s.tf.verifyCode({ userId: u, code: generateTOTP(secret, { now: s.now }) });
      const t = await s.tf.trustDevice({
        userId: u,
        stepUpToken: step.ok ? step.stepUpToken : '',
        label: 'Firefox on Linux',
      });
      check(
        t.ok && /^[A-Za-z0-9_-]{22,}$/.test(t.token) && t.expiresAt === s.now + 30 * 86_400_000,
        `trusted for 30 days: ${JSON.stringify(t)}`,
      );
      if (!t.ok) return;
      const [listed] = await s.tf.listTrustedDevices(u);
      eq(
        [listed?.id, listed?.label, listed?.expiresAt],
        [t.deviceId, 'Firefox on Linux', t.expiresAt],
        'listed',
      );
      const first = await s.tf.startChallenge({ userId: u, trustedDeviceToken: t.token });
      check(
        !first.required && first.reason === 'trusted-device' && first.deviceId === t.deviceId,
        `skipped: ${JSON.stringify(first)}`,
      );
      if (first.required || first.reason !== 'trusted-device') return;
      check(first.trustedDeviceToken !== t.token, 'rotated');
      const replay = await s.tf.startChallenge({ userId: u, trustedDeviceToken: t.token });
      check(replay.required, 'the old token no longer skips the challenge');
      check(
        s.events.some((e) => e.type === 'device-replayed' && e.deviceId === t.deviceId),
        'the replay is reported',
      );
      eq(
        (await s.tf.startChallenge({ userId: u, trustedDeviceToken: first.trustedDeviceToken }))
          .required,
        false,
        'the rotated token works',
      );
      eq(
        (await s.tf.startChallenge({ userId: uid(), trustedDeviceToken: first.trustedDeviceToken }))
          .required,
        false,
        'another user: nothing to skip (2FA not enabled)',
      );
      eq(
        (await s.tf.startChallenge({ userId: u, trustedDeviceToken: 'forged-token-forged-token' }))
          .required,
        true,
        'a forged token',
      );
      s.advance(31 * 86_400_000);
      eq(
        (await s.tf.startChallenge({ userId: u, trustedDeviceToken: first.trustedDeviceToken }))
          .required,
        true,
        'an expired token',
      );
    },
  );

  add(
    'every remembered device is forgotten when a factor is removed, 2FA is disabled, recovery codes are regenerated or the password changes',
    async () => {
      const s = server(await make());
      const u = uid();
      const a = await enroll(s, u);
      const fresh = async () => {
        const r = await s.tf.verifyCode({
          userId: u,
          code: generateTOTP(a.secret, { now: s.now }),
        });
        s.advance(30_000);
        return r.ok ? r.stepUpToken : '';
      };
      const trust = async () => {
        const t = await s.tf.trustDevice({ userId: u, stepUpToken: await fresh() });
        return t.ok ? t.token : '';
      };
      const skips = async (token: string) =>
        !(await s.tf.startChallenge({ userId: u, trustedDeviceToken: token })).required;
      let token = await trust();
      await s.tf.onPasswordChanged(u);
      eq(await skips(token), false, 'after a password change');
      token = await trust();
      await s.tf.regenerateRecoveryCodes({ userId: u, stepUpToken: await fresh() });
      eq(await skips(token), false, 'after regenerating recovery codes');
      const b = await enroll(s, u, await fresh());
      token = await trust();
      await s.tf.removeFactor({ userId: u, factorId: b.factorId, stepUpToken: await fresh() });
      eq(await skips(token), false, 'after removing a factor');
      token = await trust();
      const other = await trust();
      eq((await s.tf.listTrustedDevices(u)).length, 2, 'two remembered');
      eq(
        await s.tf.revokeTrustedDevice({
          userId: u,
          deviceId: (await s.tf.listTrustedDevices(u))[0]?.id as string,
        }),
        true,
        'one revoked by the user',
      );
      eq(await s.tf.revokeAllTrustedDevices(u), 1, 'the rest');
      eq([await skips(token), await skips(other)], [false, false], 'both forgotten');
      token = await trust();
      await s.tf.disableTwoFactor({ userId: u, stepUpToken: await fresh() });
      eq(await s.tf.listTrustedDevices(u), [], 'after disabling 2FA');
    },
  );

  add(
    'known devices: a browser that signed in before has its own attempt budget; forged, expired and revoked tokens gain nothing',
    async () => {
      const s = server(await make(), {
        throttle: { freeFailures: 2, baseDelayMs: 60_000, maxDelayMs: 3_600_000, maxFailures: 10 },
      });
      const u = uid();
      const { secret } = await enroll(s, u);
      const totp = (now: number) => generateTOTP(secret, { now });
      const first = await signIn(s, u, totp);
      check(
        first.result?.ok === true && typeof first.known === 'string',
        'a first sign-in hands out a known-device token',
      );
      // An attacker with the password, from a browser of their own, locks the shared bucket.
      for (let i = 0; i < 12; i++) {
        await signIn(s, u, () => '000000', {
          known: i % 3 === 0 ? 'forged-known-device-token' : (undefined as unknown as string),
        });
        s.advance(3_600_000);
      }
      eq((await s.tf.throttleStatus(u)).locked, true, 'the shared bucket is locked');
      s.advance(30_000);
      const mine = await signIn(s, u, totp, { known: first.known as string });
      check(
        mine.result?.ok === true,
        `the real user on the known device still signs in: ${JSON.stringify(mine.result)}`,
      );
      check(mine.known !== first.known, 'and gets a rotated token');
      s.advance(30_000);
      const stale = await signIn(s, u, totp, { known: first.known as string });
      eq(
        stale.result === undefined ? 'none' : reason(stale.result),
        'locked',
        'the rotated-away token counts as a stranger',
      );
    },
  );

  add(
    'known devices: step-up hands out none, so repeated step-ups never evict the browser the user signed in from',
    async () => {
      const s = server(await make());
      const u = uid();
      const { secret } = await enroll(s, u);
      const totp = (now: number) => generateTOTP(secret, { now });
      const first = await signIn(s, u, totp);
      check(typeof first.known === 'string', 'a first sign-in hands out a known-device token');
      // More step-ups than a user may keep known devices (20).
      for (let i = 0; i < 25; i++) {
        s.advance(30_000);
        const step = await s.tf.verifyCode({ userId: u, code: totp(s.now) });
        check(step.ok, `step-up ${i}: ${JSON.stringify(step)}`);
        check(
          step.ok && step.knownDeviceToken === undefined,
          'step-up gives no known-device token',
        );
      }
      s.advance(30_000);
      const again = await s.tf.startChallenge({ userId: u, knownDeviceToken: first.known });
      check(
        again.required && typeof again.knownDeviceToken === 'string',
        'the browser is still known: its token rotated',
      );
    },
  );

  add(
    'email codes: the destination is verified by a code; sign-ins send one to it through the hook; only its hash is stored',
    async () => {
      const outbox: { destination: string; code: string; purpose: string; channel: string }[] = [];
      const s = server(await make(), {
        delivery: {
          deliver: (d) =>
            void outbox.push({
              destination: d.destination,
              code: d.code,
              purpose: d.purpose,
              channel: d.channel,
            }),
        },
      });
      const u = uid();
      const b = await s.tf.beginEnrollment({
        userId: u,
        type: 'email',
        destination: 'alice@example.com',
      });
      check(b.ok && b.hint === 'a•••@example.com', `enrolled: ${JSON.stringify(b)}`);
      if (!b.ok) return;
      const sent = outbox.at(-1);
      check(
        sent !== undefined && sent.purpose === 'verify' && /^[0-9]{6}$/.test(sent.code),
        'a 6-digit code was sent to verify the address',
      );
      eq(
        reason(
          await s.tf.confirmEnrollment({
            userId: u,
            factorId: b.factorId,
            code: sent?.code === '000000' ? '111111' : '000000',
          }),
        ),
        'invalid',
        'a wrong code',
      );
      const c = await s.tf.confirmEnrollment({
        userId: u,
        factorId: b.factorId,
        code: sent?.code as string,
      });
      check(
        c.ok && c.factor.type === 'email' && (c.recoveryCodes?.length ?? 0) === 10,
        `confirmed with recovery codes: ${JSON.stringify(c.ok)}`,
      );
      s.advance(60_000);
      const st = await s.tf.startChallenge({ userId: u, sendTo: b.factorId });
      check(
        st.required && st.methods.includes('email') && st.sent?.ok === true,
        `sent at start: ${JSON.stringify(st)}`,
      );
      if (!st.required) return;
      const code = outbox.at(-1)?.code as string;
      const resend = await s.tf.sendCode({
        challengeId: st.challengeId,
        userId: u,
        factorId: b.factorId,
      });
      check(
        !resend.ok && resend.reason === 'throttled' && resend.retryAfterMs === 60_000,
        `a resend within a minute is refused: ${JSON.stringify(resend)}`,
      );
      eq(
        await s.tf.sendCode({ challengeId: st.challengeId, userId: uid(), factorId: b.factorId }),
        { ok: false, reason: 'expired' },
        "a send on someone else's challenge",
      );
      eq(outbox.length, 2, 'nothing more was sent');
      const r = await s.tf.verifyChallenge({ challengeId: st.challengeId, code, userId: u });
      check(
        r.ok && r.method === 'email' && r.factorId === b.factorId && r.amr.join() === 'email',
        `signed in by email: ${JSON.stringify(r)}`,
      );
      eq(
        reason(await s.tf.verifyChallenge({ challengeId: st.challengeId, code, userId: u })),
        'expired',
        'once',
      );
      check(
        !JSON.stringify(s.events).includes(code) &&
          !JSON.stringify(s.events).includes('alice@example.com'),
        'no code or address in an event',
      );
    },
  );

  add(
    'email codes: a resend replaces the live code, codes expire, and a failing hook leaves no live code behind',
    async () => {
      let fail = false;
      const outbox: string[] = [];
      const s = server(await make(), {
        delivery: {
          deliver: (d) => {
            if (fail) throw new Error('SMTP is down');
            outbox.push(d.code);
          },
          cooldownMs: 0,
        },
      });
      const u = uid();
      const b = await s.tf.beginEnrollment({ userId: u, type: 'sms', destination: '+15551234567' });
      if (!b.ok) throw new Error('begin');
      check(b.hint === '•••• 4567', 'a phone hint');
      await s.tf.confirmEnrollment({
        userId: u,
        factorId: b.factorId,
        code: outbox.at(-1) as string,
      });
      const st = await s.tf.startChallenge({ userId: u });
      if (!st.required) throw new Error('start');
      await s.tf.sendCode({ challengeId: st.challengeId, userId: u, factorId: b.factorId });
      const old = outbox.at(-1) as string;
      await s.tf.sendCode({ challengeId: st.challengeId, userId: u, factorId: b.factorId });
      const newer = outbox.at(-1) as string;
      if (old !== newer)
        eq(
          reason(await s.tf.verifyChallenge({ challengeId: st.challengeId, code: old })),
          'invalid',
          'the replaced code',
        );
      fail = true;
      let thrown: unknown;
      try {
        await s.tf.sendCode({ challengeId: st.challengeId, userId: u, factorId: b.factorId });
      } catch (e) {
        thrown = e;
      }
      check(
        thrown instanceof OtpkitError &&
          thrown.code === 'ERR_DELIVERY' &&
          !String(thrown.message).includes('+1555'),
        'a clean ERR_DELIVERY',
      );
      eq(
        reason(await s.tf.verifyChallenge({ challengeId: st.challengeId, code: newer })),
        'invalid',
        'the failed send left no live code (the earlier one was replaced)',
      );
      fail = false;
      await s.tf.sendCode({ challengeId: st.challengeId, userId: u, factorId: b.factorId });
      const live = outbox.at(-1) as string;
      s.advance(600_000);
      const later = await challenge(s, u);
      void later;
      eq(
        reason(await s.tf.verifyChallenge({ challengeId: st.challengeId, code: live })),
        'expired',
        'the challenge and its code expired',
      );
    },
  );

  add(`${n} parallel sends to one destination stay within the quotas`, async () => {
    let sent = 0;
    const s = server(await make(), {
      delivery: {
        deliver: () => void sent++,
        cooldownMs: 0,
        perUserPerHour: 1000,
        perDestinationPerHour: 7,
      },
    });
    const users = [uid(), uid()];
    const starts: { u: string; ch: string; f: string }[] = [];
    for (const u of users) {
      const b = await s.tf.beginEnrollment({
        userId: u,
        type: 'email',
        destination: 'shared@example.com',
      });
      if (!b.ok) throw new Error(`begin ${JSON.stringify(b)}`);
      starts.push({ u, ch: '', f: b.factorId });
    }
    eq(sent, 2, 'two verification codes');
    const results = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const x = starts[i % 2] as { u: string; f: string };
        // A pending factor cannot receive sign-in codes: verify it like enrollment would, by resending.
        return s.tf.beginEnrollment({
          userId: x.u,
          type: 'email',
          destination: 'shared@example.com',
        });
      }),
    );
    const accepted = results.filter((r) => r.ok).length + 2;
    check(
      accepted <= 7 && sent <= 7,
      `at most 7 sends to one address per hour across users: ${sent}`,
    );
    check(
      results.some((r) => !r.ok && (r.reason === 'throttled' || r.reason === 'limit')),
      'the rest are refused as results',
    );
  });

  return cases;
}

/** Every method of both contracts, for fault injection through the flow layer. */
const ALL_METHODS: readonly (OtpStoreMethod | FactorStoreMethod)[] = [
  ...OTP_STORE_METHODS,
  ...FACTOR_STORE_METHODS,
];

/**
 * Builds the fault cases of the flow layer: for each method of both contracts and each way of
 * misbehaving, every operation that reaches the faulty method throws `OtpkitError` with a
 * storage code, never `ok: true`; at least one operation (of `createTwoFactor`, or of
 * `createVerifier` for its fused attempt) reaches it.
 *
 * @param make - creates (or returns) the stores; called once per case.
 * @param options - `userPrefix` for the user ids.
 * @returns the cases.
 * @example
 * ```ts
 * for (const c of twoFactorFaultContract(() => ({ store: createMemoryStore() }))) it(c.name, c.run, c.timeoutMs);
 * ```
 */
export function twoFactorFaultContract(
  make: () => TwoFactorStores | Promise<TwoFactorStores>,
  options?: { readonly userPrefix?: string | undefined },
): ContractCase[] {
  const uid = ids(options?.userPrefix);
  const { cases, add } = suite();
  for (const method of ALL_METHODS) {
    for (const mode of ['throw', 'hang', 'garbage'] as const) {
      add(
        `the two-factor flow fails closed when ${method} ${mode === 'garbage' ? 'answers nonsense' : `${mode}s`}`,
        async () => {
          const stores = await make();
          let hits = 0;
          const inject = <S extends object>(st: S): S =>
            new Proxy(faultyStore(st, method, mode), {
              get(target, prop, receiver): unknown {
                if (prop === method) hits++;
                return Reflect.get(target, prop, receiver);
              },
            });
          const broken: TwoFactorStores =
            'store' in stores
              ? { store: inject(stores.store) }
              : { factors: inject(stores.factors), state: inject(stores.state) };
          const clock = { now: T0 };
          // Codes by email land in one outbox, whichever server sent them.
          const outbox: Delivery[] = [];
          const delivery = (quota: { perUserPerHour?: number } = {}) => ({
            delivery: { deliver: (d: Delivery) => void outbox.push(d), cooldownMs: 0, ...quota },
            storeTimeoutMs: 300,
            // The cheapest scrypt the layer allows: every case enrolls a dozen users.
            recoveryCodes: { hash: { logN: 10, r: 1 } },
          });
          const healthy = server(stores, delivery(), clock);
          const faulty = server(broken, delivery(), clock);
          // One send per user per hour: the enrollment's own code uses it up.
          const strict = server(broken, delivery({ perUserPerHour: 1 }), clock);
          /** A user with a confirmed email factor (through the healthy stores) and a live challenge. */
          const emailUser = async () => {
            const u = uid();
            const b = await healthy.tf.beginEnrollment({
              userId: u,
              type: 'email',
              destination: `${u}@example.com`,
            });
            if (!b.ok) throw new Error('begin');
            const code = (outbox.at(-1) as Delivery).code;
            check(
              (await healthy.tf.confirmEnrollment({ userId: u, factorId: b.factorId, code })).ok,
              'email enrollment',
            );
            return { u, factorId: b.factorId, challengeId: await challengeOf(healthy, u) };
          };
          const verifier = createVerifier({
            store: 'store' in broken ? broken.store : broken.state,
            storeTimeoutMs: 300,
            now: () => clock.now,
          });
          // Each operation on its own user, enrolled through the healthy stores when it needs a factor.
          const ready = async () => {
            const u = uid();
            const f = await enroll(healthy, u);
            const step = await healthy.tf.verifyCode({
              userId: u,
              code: generateTOTP(f.secret, { now: clock.now }),
            });
            clock.now += 30_000;
            return { u, ...f, token: step.ok ? step.stepUpToken : '' };
          };
          const ops: Array<() => Promise<{ ok: boolean } | unknown>> = [
            async () => faulty.tf.beginEnrollment({ userId: uid(), account: 'a' }),
            async () => {
              const u = uid();
              const b = await healthy.tf.beginEnrollment({ userId: u, account: 'a' });
              if (!b.ok) throw new Error('begin');
              const secret = decodeBase32(b.manualKey.replace(/ /g, ''));
              hits = 0;
              return faulty.tf.confirmEnrollment({
                userId: u,
                factorId: b.factorId,
                code: generateTOTP(secret, { now: clock.now }),
              });
            },
            async () => {
              const r = await ready();
              hits = 0;
              return faulty.tf.verifyChallenge({
                challengeId: await challengeOf(healthy, r.u),
                code: generateTOTP(r.secret, { now: clock.now }),
              });
            },
            async () => {
              const r = await ready();
              hits = 0;
              const started = await faulty.tf.startChallenge({ userId: r.u });
              return started.required
                ? faulty.tf.verifyChallenge({
                    challengeId: started.challengeId,
                    code: r.codes[0] as string,
                  })
                : started;
            },
            async () => {
              const r = await ready();
              hits = 0;
              return faulty.tf.verifyCode({
                userId: r.u,
                code: generateTOTP(r.secret, { now: clock.now }),
              });
            },
            async () => {
              const r = await ready();
              hits = 0;
              return faulty.tf.removeFactor({
                userId: r.u,
                factorId: r.factorId,
                stepUpToken: r.token,
              });
            },
            async () => {
              const u = uid();
              const b = await healthy.tf.beginEnrollment({ userId: u, account: 'a' });
              if (!b.ok) throw new Error('begin');
              hits = 0;
              return faulty.tf.removeFactor({ userId: u, factorId: b.factorId });
            },
            async () => {
              const r = await ready();
              hits = 0;
              await faulty.tf.renameFactor({ userId: r.u, factorId: r.factorId, label: 'x' });
              await faulty.tf.listFactors(r.u);
              return faulty.tf.regenerateRecoveryCodes({ userId: r.u, stepUpToken: r.token });
            },
            async () => {
              const r = await ready();
              hits = 0;
              await faulty.tf.throttleStatus(r.u);
              await faulty.tf.unlock(r.u);
              return faulty.tf.disableTwoFactor({ userId: r.u, stepUpToken: r.token });
            },
            async () => {
              const u = uid();
              hits = 0;
              return faulty.tf.importFactor({
                userId: u,
                secret: new Uint8Array(20).fill(7),
                lastUsedStep: 5,
              });
            },
            async () => {
              const r = await ready();
              const rotated = server(
                broken,
                { storeTimeoutMs: 300, keys: { current: 'k2', keys: { k1: KEK1, k2: KEK2 } } },
                clock,
              );
              hits = 0;
              await rotated.tf.resealFactors();
              return faulty.tf.eraseUser(r.u);
            },
            async () => verifier.verifyTOTP({ userId: uid(), secret: KEK1, token: '000000' }),
            // A browser the healthy stores know: its token is rotated at the next sign-in.
            async () => {
              const r = await ready();
              const first = await healthy.tf.verifyChallenge({
                challengeId: await challengeOf(healthy, r.u),
                code: generateTOTP(r.secret, { now: clock.now }),
              });
              clock.now += 30_000;
              const knownDeviceToken = first.ok ? first.knownDeviceToken : undefined;
              check(knownDeviceToken !== undefined, 'a known-device token');
              hits = 0;
              const started = await faulty.tf.startChallenge({ userId: r.u, knownDeviceToken });
              return started.required
                ? faulty.tf.verifyChallenge({
                    challengeId: started.challengeId,
                    code: generateTOTP(r.secret, { now: clock.now }),
                  })
                : started;
            },
            // A remembered browser signs in: its token is rotated and the code skipped.
            async () => {
              const r = await ready();
              const trusted = await healthy.tf.trustDevice({ userId: r.u, stepUpToken: r.token });
              check(trusted.ok, 'a trusted-device token');
              hits = 0;
              return faulty.tf.startChallenge({
                userId: r.u,
                trustedDeviceToken: trusted.ok ? trusted.token : undefined,
              });
            },
            // Remember this browser, list the remembered ones, forget them all.
            async () => {
              const r = await ready();
              hits = 0;
              const trusted = await faulty.tf.trustDevice({ userId: r.u, stepUpToken: r.token });
              await faulty.tf.listTrustedDevices(r.u);
              await faulty.tf.revokeAllTrustedDevices(r.u);
              return trusted;
            },
            // A sign-in code by email, then signing in with it.
            async () => {
              const e = await emailUser();
              hits = 0;
              const sent = await faulty.tf.sendCode({
                challengeId: e.challengeId,
                userId: e.u,
                factorId: e.factorId,
              });
              return sent.ok
                ? faulty.tf.verifyChallenge({
                    challengeId: e.challengeId,
                    code: (outbox.at(-1) as Delivery).code,
                  })
                : sent;
            },
            // A send the user's quota refuses after the app and destination buckets counted it:
            // both are given back.
            async () => {
              const e = await emailUser();
              hits = 0;
              return strict.tf.sendCode({
                challengeId: e.challengeId,
                userId: e.u,
                factorId: e.factorId,
              });
            },
          ];
          let reached = 0;
          for (const op of ops) {
            hits = 0;
            let outcome: unknown;
            try {
              outcome = await op();
            } catch (e) {
              check(
                e instanceof OtpkitError && e.code.startsWith('ERR_STORE'),
                `${method} ${mode}: threw ${String(e)} instead of a storage OtpkitError`,
              );
              outcome = e;
            }
            if (hits === 0) continue;
            reached++;
            check(
              outcome instanceof OtpkitError,
              `${method} ${mode}: an operation that hit the fault resolved ${JSON.stringify(outcome, (_, x: unknown) => (typeof x === 'bigint' ? String(x) : x))}`,
            );
          }
          check(reached > 0, `${method} ${mode}: no operation reached the faulty method`);
        },
        60_000,
      );
    }
  }
  return cases;

  async function challengeOf(s: Server, userId: string): Promise<string> {
    const r = await s.tf.startChallenge({ userId });
    return r.required ? r.challengeId : '';
  }
}
