import argon2 from 'argon2';
import request from 'supertest';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { ApiClient, signIn } from '../support/admin-api';

/**
 * The NEC lockout holds for attempts in flight (issue: a burst of parallel
 * guesses got past it). 50 attempts run at once, 49 wrong and the right one at
 * a random position; whatever the order, at most MaxAllowedLoginFailureCount
 * passwords may be checked before the name locks, plus at most that many again
 * after the right one succeeded (the count starts afresh), on every way in.
 */

const LIMIT = 3;
const PASSWORD = 'Correct-Horse-7';
const BURST = 50;

/** Counts Argon2 verifications and remembers which password each one checked. */
function countVerifications(): { passwords: () => string[]; restore: () => void } {
  const verify = jest.spyOn(argon2, 'verify');
  return { passwords: () => verify.mock.calls.map((call) => String(call[1])), restore: () => verify.mockRestore() };
}

function burst(rightAt: number): string[] {
  return Array.from({ length: BURST }, (_, i) => (i === rightAt ? PASSWORD : `wrong-${i}-guess`));
}

/** At most LIMIT checks per window between resets: one window without a success, two with one. */
function expectBounded(verified: string[], statuses: number[], okStatus: number): void {
  const successes = statuses.filter((s) => s === okStatus).length;
  expect(successes).toBeLessThanOrEqual(1);
  if (successes === 0) {
    expect(verified.length).toBeLessThanOrEqual(LIMIT);
  } else {
    expect(verified).toContain(PASSWORD);
    expect(verified.length).toBeLessThanOrEqual(2 * LIMIT);
  }
}

describe('lockout under a burst of parallel guesses', () => {
  let ctx: TestContext;
  let spy: ReturnType<typeof countVerifications> | undefined;
  const rightAt = Math.floor(Math.random() * BURST);

  beforeEach(async () => {
    ctx = await createTestContext({
      overrides: { lockout: { maxAllowedLoginFailureCount: LIMIT, userLockoutTimeout: 900 }, ops: { clientThrottle: { maxFailures: 0 } } },
    });
    await ctx.addUser('alice', PASSWORD);
  });
  afterEach(async () => {
    spy?.restore();
    spy = undefined;
    await ctx.close();
  });

  it(`REST tickets: at most ${LIMIT} passwords are checked (right one at position ${rightAt})`, async () => {
    spy = countVerifications();
    const statuses = await Promise.all(
      burst(rightAt).map((password) => request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form').send({ username: 'alice', password }).then((r) => r.status)),
    );
    expect(statuses.every((s) => [201, 401, 423].includes(s))).toBe(true);
    expectBounded(spy.passwords(), statuses, 201);
  });

  it('the login form: at most the limit of passwords are checked', async () => {
    spy = countVerifications();
    const statuses = await Promise.all(burst(rightAt).map((password) => submitLogin(ctx.agent(), 'alice', password).then((r) => r.status)));
    expect(statuses.every((s) => [200, 401, 423].includes(s))).toBe(true);
    expectBounded(spy.passwords(), statuses, 200);
  });

  it('API token sign-in: at most the limit of passwords are checked', async () => {
    spy = countVerifications();
    const anonymous = new ApiClient(ctx);
    const statuses = await Promise.all(burst(rightAt).map((password) => anonymous.post('/tokens', { username: 'alice', password }).then((r) => r.status)));
    expect(statuses.every((s) => [201, 401, 423].includes(s))).toBe(true);
    expectBounded(spy.passwords(), statuses, 201);
  });

  it('/me/password with a stolen token: at most the limit of current passwords are checked, and the lock is audited', async () => {
    const user = await signIn(ctx, 'alice', PASSWORD);
    spy = countVerifications();
    const statuses = await Promise.all(
      burst(rightAt).map((currentPassword, i) => user.post('/me/password', { currentPassword, newPassword: `Brand-New-Pass-${i}x` }).then((r) => r.status)),
    );
    // 204 changed, 403 wrong current password, 423 locked; after a change the token is revoked (401).
    expect(statuses.every((s) => [204, 401, 403, 423].includes(s))).toBe(true);
    // The change itself checks its new password against the current hash and the history (not a guess of
    // the current password); only the one change that went through may do that.
    const [guesses, newPasswords] = [spy.passwords().filter((p) => !p.startsWith('Brand-New-Pass-')), spy.passwords().filter((p) => p.startsWith('Brand-New-Pass-'))];
    expect(new Set(newPasswords).size).toBe(statuses.includes(204) ? 1 : 0);
    expectBounded(guesses, statuses, 204);
    if (!statuses.includes(204)) expect((await ctx.services.audit.query({ username: 'alice', event: 'account_locked' })).total).toBe(1);
  });

  it('with the right password in flight last, the name still locks after the limit (sequential control)', async () => {
    spy = countVerifications();
    for (let i = 0; i < LIMIT; i++) expect((await request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form').send({ username: 'alice', password: `wrong-${i}` })).status).toBe(401);
    expect((await request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form').send({ username: 'alice', password: PASSWORD })).status).toBe(423);
    expect(spy.passwords()).toHaveLength(LIMIT);
  });
});

describe('lockout off', () => {
  it('reserves nothing when MaxAllowedLoginFailureCount is 0', async () => {
    const ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 0 }, ops: { clientThrottle: { maxFailures: 0 } } } });
    try {
      await ctx.addUser('alice', PASSWORD);
      const context = { clientIp: '127.0.0.1', userAgent: null, channel: 'test' };
      const results = await Promise.all(burst(7).map((password) => ctx.services.loginService.login({ username: 'alice', password }, context)));
      expect(results.filter((r) => r.status === 'success')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'invalid')).toHaveLength(BURST - 1);
      expect(await ctx.services.lockouts.get('alice')).toEqual({ failureCount: 0, lockedUntil: null });
    } finally {
      await ctx.close();
    }
  });
});
