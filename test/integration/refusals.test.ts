import request from 'supertest';
import { refusalOf } from '../../src/authn/refusals';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { ApiClient } from '../support/admin-api';

/**
 * One refusal table: the login page, REST tickets and the API answer a refused
 * login with the same status and the same words; only the format differs.
 */

const PASSWORD = 'Correct-Horse-7';

describe('refusal table', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 5, userLockoutTimeout: 900 } } });
    await ctx.addUser('alice', PASSWORD);
  });
  afterEach(() => ctx.close());

  async function everyWayIn(username: string, password: string) {
    const form = await submitLogin(ctx.agent(), username, password);
    const rest = await request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form').send({ username, password });
    const api = await new ApiClient(ctx).post('/tokens', { username, password });
    return { form, rest, api };
  }

  it.each([
    ['a wrong password', 'alice', 'wrong-password-1', { status: 'invalid' as const }],
    ['an unknown user', 'nobody', 'wrong-password-1', { status: 'invalid' as const }],
  ])('answers %s the same way everywhere', async (_label, username, password, result) => {
    const entry = refusalOf(result);
    const { form, rest, api } = await everyWayIn(username, password);
    expect([form.status, rest.status, api.status]).toEqual([entry.status, entry.status, entry.status]);
    expect(form.text).toContain(entry.message);
    expect(rest.text.trim()).toBe(entry.message);
    expect(api.body).toMatchObject({ type: expect.stringMatching(/invalid-credentials$/), detail: entry.message });
  });

  it('answers a locked name the same way everywhere, with the lock time in problem+json', async () => {
    for (let i = 0; i < 5; i++) await ctx.services.loginService.login({ username: 'alice', password: `wrong-${i}` }, { clientIp: null, userAgent: null, channel: 'test' });
    const lockedUntil = ctx.clock.now() + 900_000;
    const entry = refusalOf({ status: 'locked', lockedUntil });
    const { form, rest, api } = await everyWayIn('alice', PASSWORD);
    expect([form.status, rest.status, api.status]).toEqual([423, 423, 423]);
    expect(form.text).toContain(entry.message);
    expect(rest.text.trim()).toBe(entry.message);
    expect(api.body).toMatchObject({ type: expect.stringMatching(/account-locked$/), detail: entry.message, lockedUntil: new Date(lockedUntil).toISOString() });
  });

  it('answers a disabled account the same way everywhere', async () => {
    const alice = await ctx.services.accountService.requireByUsername('alice');
    await ctx.services.accountService.update(alice.id, { enabled: false }, { name: 'test' });
    const entry = refusalOf({ status: 'disabled' });
    const { form, rest, api } = await everyWayIn('alice', PASSWORD);
    expect([form.status, rest.status, api.status]).toEqual([403, 403, 403]);
    expect(form.text).toContain(entry.message);
    expect(rest.text.trim()).toBe(entry.message);
    expect(api.body).toMatchObject({ type: expect.stringMatching(/account-disabled$/), detail: entry.message });
  });
});
