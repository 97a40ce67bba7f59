import request from 'supertest';
import { totpCode } from '../../src/mfa/totp';
import { type TestContext, createTestContext, executionFrom, submitLogin } from '../support/test-app';
import { ApiClient } from '../support/admin-api';
import { registerService } from '../support/cas-helpers';

/**
 * TOTP second factor on the login page, REST tickets and API tokens, with the
 * test context's manual clock: enrolment before any session, codes computed
 * from the enrolled secret as an app would, drift, replay, recovery codes,
 * lockout through the same regulator as passwords, secrets encrypted at rest.
 */

const PASSWORD = 'Correct-Horse-7';
const STEP = 30_000;
const APP = 'https://app.example.org/login';
type Agent = ReturnType<TestContext['agent']>;

const tokenIn = (page: string) => /name="token" value="([^"]+)"/.exec(page)![1];
const secretIn = (page: string) => /<code id="secret">([A-Z2-7 ]+)<\/code>/.exec(page)![1].replace(/ /g, '');
const codesIn = (page: string) => [...page.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]);

describe('TOTP second factor', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { mfa: { require: 'admins' }, lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 900 } } });
    // Codes are computed for the middle of a step, so ±1 step means exactly one step either way.
    ctx.clock.advance(STEP - (ctx.clock.now() % STEP) + STEP / 2);
    await ctx.addUser('root', PASSWORD, { role: 'admin' });
    await ctx.addUser('alice', PASSWORD);
  });
  afterEach(() => ctx.close());

  /** An administrator's first sign-in: password, then enrolment; returns the secret and recovery codes. */
  async function enrol(agent: Agent): Promise<{ secret: string; codes: string[] }> {
    const first = await submitLogin(agent, 'root', PASSWORD);
    expect(first.status).toBe(200);
    expect(first.text).toContain('Set up a second factor');
    expect(first.headers['set-cookie'] ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^TGC=/)]));
    const secret = secretIn(first.text);
    const wrong = await agent.post('/cas/mfa/enrol').type('form').send({ token: tokenIn(first.text), code: '000000', name: 'phone' });
    expect(wrong.status).toBe(400);
    const done = await agent.post('/cas/mfa/enrol').type('form').send({ token: tokenIn(first.text), code: totpCode(secret, ctx.clock.now()), name: 'phone' });
    expect(done.text).toContain('Save your recovery codes');
    return { secret, codes: codesIn(done.text) };
  }

  /** Password, then the code page; returns the code form's response. */
  async function passwordThenCode(agent: Agent, code: string, extra: Record<string, string> = {}): Promise<request.Response> {
    const page = await submitLogin(agent, 'root', PASSWORD, extra);
    expect(page.text).toContain('Confirm it is you');
    return agent.post('/cas/mfa').type('form').send({ token: tokenIn(page.text), code });
  }

  it('makes an administrator enrol before any session, then signs in with password and code', async () => {
    const agent = ctx.agent();
    const { secret, codes } = await enrol(agent);
    expect(codes).toHaveLength(10);
    expect((await agent.get('/cas/login')).text).toContain('You are logged in');
    ctx.clock.advance(STEP);
    const second = await passwordThenCode(ctx.agent(), totpCode(secret, ctx.clock.now()));
    expect(second.text).toContain('You are logged in');
    const factors = await ctx.services.mfa.list((await ctx.services.accountService.requireByUsername('root')).id);
    expect(factors.filter((f) => f.kind === 'totp').map((f) => f.name)).toEqual(['phone']);
    expect((await ctx.services.audit.query({ username: 'root', event: 'mfa_enrolled' })).total).toBe(1);
  });

  it('accepts ±1 step of drift, refuses ±2 steps, and refuses a code used before', async () => {
    const { secret } = await enrol(ctx.agent());
    ctx.clock.advance(10 * STEP);
    const now = ctx.clock.now();
    expect((await passwordThenCode(ctx.agent(), totpCode(secret, now - 2 * STEP))).status).toBe(401);
    expect((await passwordThenCode(ctx.agent(), totpCode(secret, now + 2 * STEP))).status).toBe(401);
    const early = totpCode(secret, now + STEP);
    expect((await passwordThenCode(ctx.agent(), early)).text).toContain('You are logged in');
    // The same code again (a replay within its window), and an older step, are refused.
    expect((await passwordThenCode(ctx.agent(), early)).status).toBe(401);
    expect((await passwordThenCode(ctx.agent(), totpCode(secret, now))).status).toBe(401);
  });

  it('counts wrong codes toward the NEC lockout; a right password in between does not clear them; locked refuses the right code', async () => {
    const { secret } = await enrol(ctx.agent());
    ctx.clock.advance(STEP);
    expect((await passwordThenCode(ctx.agent(), '111111')).status).toBe(401);
    expect((await passwordThenCode(ctx.agent(), '222222')).status).toBe(401);
    expect((await passwordThenCode(ctx.agent(), '333333')).status).toBe(401);
    expect((await ctx.services.audit.query({ username: 'root', event: 'account_locked' })).total).toBe(1);
    // Locked: the password step is refused, and so is the right code on a form still open.
    const locked = await submitLogin(ctx.agent(), 'root', PASSWORD);
    expect(locked.status).toBe(423);
    ctx.clock.advance(900_000);
    const agent = ctx.agent();
    const page = await submitLogin(agent, 'root', PASSWORD);
    await ctx.services.mfa.verify(await ctx.services.accountService.requireByUsername('root'), '444444', { clientIp: null, userAgent: null, channel: 'test' });
    await ctx.services.mfa.verify(await ctx.services.accountService.requireByUsername('root'), '555555', { clientIp: null, userAgent: null, channel: 'test' });
    await ctx.services.mfa.verify(await ctx.services.accountService.requireByUsername('root'), '666666', { clientIp: null, userAgent: null, channel: 'test' });
    const refused = await agent.post('/cas/mfa').type('form').send({ token: tokenIn(page.text), code: totpCode(secret, ctx.clock.now()) });
    expect(refused.status).toBe(423);
    expect(refused.text).toContain('temporarily locked');
  });

  it('takes a recovery code once, audits it and flags the account for review', async () => {
    const { codes } = await enrol(ctx.agent());
    const root = await ctx.services.accountService.requireByUsername('root');
    expect((await passwordThenCode(ctx.agent(), codes[3].toLowerCase())).text).toContain('You are logged in');
    expect((await passwordThenCode(ctx.agent(), codes[3])).status).toBe(401);
    expect((await ctx.services.audit.query({ username: 'root', event: 'mfa_recovery_code_used' })).total).toBe(1);
    expect(await ctx.services.mfa.needsReview(root.id)).toBe(true);
  });

  it('stores neither the TOTP secret nor a recovery code in clear', async () => {
    const { secret, codes } = await enrol(ctx.agent());
    const rows = JSON.stringify(await ctx.services.db.knex('mfa_factors').select());
    expect(rows).not.toContain(secret);
    for (const code of codes) expect(rows).not.toContain(code.replace(/-/g, ''));
    expect(rows).toMatch(/"secret":"v1\./);
  });

  it('steps up a password-only session for authn_method=mfa without asking for the password again', async () => {
    await registerService(ctx, { serviceUrl: APP });
    const agent = ctx.agent();
    expect((await submitLogin(agent, 'alice', PASSWORD)).text).toContain('You are logged in');
    const stepUp = await agent.get(`/cas/login?service=${encodeURIComponent(APP)}&authn_method=mfa`);
    expect(stepUp.text).toContain('Set up a second factor');
    expect(stepUp.text).not.toContain('name="password"');
    const secret = secretIn(stepUp.text);
    const done = await agent.post('/cas/mfa/enrol').type('form').send({ token: tokenIn(stepUp.text), code: totpCode(secret, ctx.clock.now()) });
    expect(done.text).toContain('Save your recovery codes');
    const onward = await agent.get(`/cas/login?service=${encodeURIComponent(APP)}&authn_method=mfa`);
    expect(onward.status).toBe(303);
    expect(onward.headers.location).toMatch(/ticket=ST-/);
  });

  it('asks REST tickets and API tokens for the code only after the right password', async () => {
    const { secret } = await enrol(ctx.agent());
    const rest = (form: Record<string, string>) => request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form').send(form);
    expect((await rest({ username: 'root', password: 'wrong-password' })).status).toBe(401);
    const noCode = await rest({ username: 'root', password: PASSWORD });
    expect(noCode.status).toBe(401);
    expect(noCode.text).toContain('second factor');
    ctx.clock.advance(STEP);
    expect((await rest({ username: 'root', password: PASSWORD, otp: totpCode(secret, ctx.clock.now()) })).status).toBe(201);
    const api = new ApiClient(ctx);
    const apiNoCode = await api.post('/tokens', { username: 'root', password: PASSWORD });
    expect(apiNoCode.status).toBe(401);
    expect(apiNoCode.body.type).toMatch(/mfa-required$/);
    ctx.clock.advance(STEP);
    const withHeader = await api.post('/tokens', { username: 'root', password: PASSWORD }).set('X-Portcullis-OTP', totpCode(secret, ctx.clock.now()));
    expect(withHeader.status).toBe(201);
  });

  it('tells an administrator without a factor to enrol on the login page before REST or API use', async () => {
    const res = await request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form').send({ username: 'root', password: PASSWORD });
    expect(res.status).toBe(401);
    expect(res.text).toContain('set one up');
    expect((await request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form').send({ username: 'alice', password: PASSWORD })).status).toBe(201);
  });
});

describe('second factor form hygiene', () => {
  it('refuses a forged or expired step token', async () => {
    const ctx = await createTestContext({ overrides: { mfa: { require: 'all' } } });
    try {
      const page = await ctx.agent().get('/cas/login');
      expect(executionFrom(page.text)).toBeTruthy();
      expect((await ctx.agent().post('/cas/mfa').type('form').send({ token: 'forged', code: '123456' })).status).toBe(403);
    } finally {
      await ctx.close();
    }
  });
});

describe('second factor after a forced password change', () => {
  it('enrols right after the new password is chosen (the bootstrap administrator path)', async () => {
    const ctx = await createTestContext({ overrides: { mfa: { require: 'admins' } } });
    try {
      await ctx.addUser('boss', PASSWORD, { role: 'admin', mustChangePassword: true });
      const agent = ctx.agent();
      const login = await submitLogin(agent, 'boss', PASSWORD);
      const changed = await agent.post('/cas/password').type('form').send({ token: tokenIn(login.text), password: 'Fresh-Chief-Pass-3', confirm: 'Fresh-Chief-Pass-3' });
      expect(changed.text).toContain('Set up a second factor');
      const done = await agent.post('/cas/mfa/enrol').type('form').send({ token: tokenIn(changed.text), code: totpCode(secretIn(changed.text), ctx.clock.now()) });
      expect(done.text).toContain('Save your recovery codes');
      expect((await agent.get('/cas/login')).text).toContain('You are logged in');
    } finally {
      await ctx.close();
    }
  });
});
