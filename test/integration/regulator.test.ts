import { type TestContext, createTestContext } from '../support/test-app';
import type { Admission, Attempt } from '../../src/policy/regulator';

/**
 * The regulator's verdicts on the real lockout store (SQLite here, PostgreSQL
 * in the test command's third pass), with the test context's manual clock.
 */

const LOCK_MS = 900_000;
const IP = '192.0.2.10';

function admitted(admission: Admission): Attempt {
  if (!admission.admitted) throw new Error(`refused: ${admission.reason}`);
  return admission.attempt;
}

describe('login regulator', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: LOCK_MS / 1000 }, ops: { clientThrottle: { maxFailures: 0 } } } });
  });
  afterEach(() => ctx.close());
  const admit = () => ctx.services.regulator.admit('alice', IP, { lockout: true });

  it('claims a place before the check: the third attempt in flight locks the name, a fourth is refused', async () => {
    const first = admitted(await admit());
    const second = admitted(await admit());
    const third = admitted(await admit());
    expect([first.claim, second.claim]).toEqual([{ failureCount: 1, lockedUntil: null }, { failureCount: 2, lockedUntil: null }]);
    expect(third.claim).toEqual({ failureCount: 3, lockedUntil: ctx.clock.now() + LOCK_MS });
    expect(await admit()).toEqual({ admitted: false, reason: 'locked', lockedUntil: ctx.clock.now() + LOCK_MS });
    expect(await ctx.services.regulator.fail(first)).toEqual({ lockedNow: false, failureCount: 1, lockedUntil: null });
    expect(await ctx.services.regulator.fail(third)).toEqual({ lockedNow: true, failureCount: 3, lockedUntil: ctx.clock.now() + LOCK_MS });
    expect(await ctx.services.regulator.view('alice')).toEqual({ failureCount: 3, locked: true, lockedUntil: ctx.clock.now() + LOCK_MS });
  });

  it('a success clears the count, even one that held the last place', async () => {
    admitted(await admit());
    admitted(await admit());
    const last = admitted(await admit());
    await ctx.services.regulator.succeed(last);
    expect(await ctx.services.regulator.view('alice')).toEqual({ failureCount: 0, locked: false, lockedUntil: null });
    expect(admitted(await admit()).claim).toEqual({ failureCount: 1, lockedUntil: null });
  });

  it('an attempt abandoned without a verdict gives its place back, and the lock it set', async () => {
    admitted(await admit());
    const second = admitted(await admit());
    await ctx.services.regulator.abandon(second);
    expect((await ctx.services.regulator.view('alice')).failureCount).toBe(1);
    admitted(await admit());
    const third = admitted(await admit());
    expect((await ctx.services.regulator.view('alice')).locked).toBe(true);
    await ctx.services.regulator.abandon(third);
    expect(await ctx.services.regulator.view('alice')).toEqual({ failureCount: 2, locked: false, lockedUntil: null });
  });

  it('starts a fresh count when the lock runs out', async () => {
    for (let i = 0; i < 3; i++) await ctx.services.regulator.fail(admitted(await admit()));
    ctx.clock.advance(LOCK_MS - 1);
    expect((await admit()).admitted).toBe(false);
    ctx.clock.advance(1);
    expect(await ctx.services.regulator.view('alice')).toEqual({ failureCount: 0, locked: false, lockedUntil: null });
    expect(admitted(await admit()).claim).toEqual({ failureCount: 1, lockedUntil: null });
  });

  it('observes without claiming (SPNEGO): refused while locked, admitted otherwise', async () => {
    const observed = await ctx.services.regulator.observe('alice', IP, { lockout: true });
    expect(observed).toEqual({ admitted: true, attempt: { usernameKey: 'alice', clientIp: IP, claim: null, clearOnSuccess: false } });
    expect(await ctx.services.lockouts.get('alice')).toEqual({ failureCount: 0, lockedUntil: null });
    for (let i = 0; i < 3; i++) await ctx.services.regulator.fail(admitted(await admit()));
    expect(await ctx.services.regulator.observe('alice', IP, { lockout: true })).toEqual({ admitted: false, reason: 'locked', lockedUntil: ctx.clock.now() + LOCK_MS });
  });

  it('claims nothing when lockout does not apply (backend opts out)', async () => {
    const attempt = admitted(await ctx.services.regulator.admit('alice', IP, { lockout: false }));
    expect(attempt.claim).toBeNull();
    await ctx.services.regulator.fail(attempt);
    expect(await ctx.services.lockouts.get('alice')).toEqual({ failureCount: 0, lockedUntil: null });
  });

  it('a count left at a lowered limit without a lock refuses, then starts afresh after a lock period', async () => {
    // Four failures counted under a limit of 5, then the limit is lowered to 3 (a policy reload).
    for (let i = 0; i < 4; i++) await ctx.services.lockouts.claim('alice', ctx.clock.now(), 5, LOCK_MS);
    expect((await admit()).admitted).toBe(false);
    ctx.clock.advance(LOCK_MS);
    expect(admitted(await admit()).claim).toEqual({ failureCount: 1, lockedUntil: null });
  });
});

describe('client-address throttle in the regulator', () => {
  it('refuses an address after maxFailures failures in the window, whatever the name', async () => {
    const ctx = await createTestContext({ overrides: { ops: { clientThrottle: { maxFailures: 2, windowSeconds: 60 } } } });
    try {
      const { regulator } = ctx.services;
      for (const name of ['carol', 'dave']) await regulator.fail(admitted(await regulator.admit(name, IP, { lockout: true })));
      expect(await regulator.admit('erin', IP, { lockout: true })).toEqual({ admitted: false, reason: 'client_throttled', lockedUntil: ctx.clock.now() + 60_000 });
      expect((await regulator.admit('erin', '192.0.2.11', { lockout: true })).admitted).toBe(true);
      ctx.clock.advance(60_000);
      expect((await regulator.admit('erin', IP, { lockout: true })).admitted).toBe(true);
    } finally {
      await ctx.close();
    }
  });
});
