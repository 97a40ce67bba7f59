import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { ADMIN_PASSWORD, ApiClient, USER_PASSWORD, adminAndUser, signIn } from '../support/admin-api';
import { sha256Hex } from '../../src/shared/random';

const PROBLEM = 'https://portcullis.dev/problems/';

describe('administration API: bearer tokens', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 900 }, api: { tokenTtlSeconds: 600 } } });
  });
  afterEach(() => ctx.close());

  it('issues a short-lived token for valid credentials and stores only its SHA-256', async () => {
    await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin' });
    const res = await new ApiClient(ctx).post('/tokens', { username: 'root', password: ADMIN_PASSWORD });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ tokenType: 'Bearer', scope: 'full', account: { username: 'root', role: 'admin' } });
    expect(res.body.token).toMatch(/^pcat_[A-Za-z0-9]{43}$/);
    expect(Date.parse(res.body.expiresAt) - ctx.clock.now()).toBe(600_000);
    const rows = await ctx.services.db.knex('api_tokens').select('*');
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(res.body.token);
    expect(rows[0].token_hash).toBe(sha256Hex(res.body.token));
    const audit = await ctx.services.audit.query({ event: 'token_issued' });
    expect(audit.events[0]).toMatchObject({ username: 'root', outcome: 'success', details: { tokenId: res.body.id, scope: 'full', channel: 'credentials' } });
    expect(JSON.stringify(audit.events)).not.toContain(res.body.token);
  });

  it('is accepted until it expires, then answers 401 invalid-token', async () => {
    const { admin } = await adminAndUser(ctx);
    expect((await admin.get('/stats')).status).toBe(200);
    ctx.clock.advance(599_000);
    expect((await admin.get('/stats')).status).toBe(200);
    ctx.clock.advance(1_000);
    const expired = await admin.get('/stats');
    expect(expired.status).toBe(401);
    expect(expired.body.type).toBe(`${PROBLEM}invalid-token`);
    expect(expired.headers['www-authenticate']).toBe('Bearer realm="portcullis", error="invalid_token"');
  });

  it('answers wrong credentials and unknown users alike with 401 invalid-credentials, and counts failures like the login page', async () => {
    await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin' });
    const anonymous = new ApiClient(ctx);
    const wrong = await anonymous.post('/tokens', { username: 'root', password: 'nope-nope-1' });
    const unknown = await anonymous.post('/tokens', { username: 'ghost', password: 'nope-nope-1' });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toEqual({ type: `${PROBLEM}invalid-credentials`, title: 'Unauthorized', status: 401, detail: 'Invalid username or password.' });
    }
    await anonymous.post('/tokens', { username: 'root', password: 'nope-nope-2' });
    await anonymous.post('/tokens', { username: 'root', password: 'nope-nope-3' });
    const locked = await anonymous.post('/tokens', { username: 'root', password: ADMIN_PASSWORD });
    expect(locked.status).toBe(423);
    expect(locked.body.type).toBe(`${PROBLEM}account-locked`);
    expect(Date.parse(locked.body.lockedUntil)).toBe(ctx.clock.now() + 900_000);
    const logins = await ctx.services.audit.query({ event: 'login', username: 'root' });
    expect(logins.events.every((e) => e.details?.channel === 'api_token')).toBe(true);
    ctx.clock.advance(900_001);
    expect((await anonymous.post('/tokens', { username: 'root', password: ADMIN_PASSWORD })).status).toBe(201);
  });

  it('refuses disabled accounts with 403 account-disabled', async () => {
    await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin' });
    await ctx.addUser('bob', USER_PASSWORD);
    const bob = await ctx.services.accountService.requireByUsername('bob');
    await ctx.services.accountService.update(bob.id, { enabled: false }, { name: 'test' });
    const res = await new ApiClient(ctx).post('/tokens', { username: 'bob', password: USER_PASSWORD });
    expect(res.status).toBe(403);
    expect(res.body.type).toBe(`${PROBLEM}account-disabled`);
  });

  it('validates the token request body strictly', async () => {
    const anonymous = new ApiClient(ctx);
    const missing = await anonymous.post('/tokens', { username: 'root' });
    expect(missing.status).toBe(422);
    expect(missing.body.type).toBe(`${PROBLEM}validation-failed`);
    expect(missing.body.errors).toEqual([{ field: 'password', rule: 'custom', message: 'password is required (or give ticketGrantingTicket)' }]);
    const extra = await anonymous.post('/tokens', { username: 'root', password: 'x', remember: true });
    expect(extra.status).toBe(422);
    expect(extra.body.errors).toContainEqual({ field: 'remember', rule: 'unknown_field', message: 'is not a field of this request' });
    const both = await anonymous.post('/tokens', { username: 'root', password: 'x', ticketGrantingTicket: 'TGT-1' });
    expect(both.status).toBe(422);
    const form = await ctx.agent().post('/api/v1/tokens').type('form').send({ username: 'root', password: 'x' });
    expect(form.status).toBe(415);
    expect(form.body.type).toBe(`${PROBLEM}unsupported-media-type`);
    const broken = await ctx.agent().post('/api/v1/tokens').set('Content-Type', 'application/json').send('{"username": ');
    expect(broken.status).toBe(400);
    expect(broken.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(broken.body).toMatchObject({ type: `${PROBLEM}invalid-request`, detail: 'The request body is not valid JSON.' });
    const scalar = await ctx.agent().post('/api/v1/tokens').set('Content-Type', 'application/json').send('"root"');
    expect(scalar.status).toBe(400);
  });

  it('rejects malformed Authorization headers and unknown tokens with 401', async () => {
    const none = await ctx.agent().get('/api/v1/me');
    expect(none.status).toBe(401);
    expect(none.body.type).toBe(`${PROBLEM}unauthenticated`);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="portcullis"');
    const basic = await ctx.agent().get('/api/v1/me').set('Authorization', 'Basic cm9vdDpwdw==');
    expect(basic.status).toBe(401);
    expect(basic.body.type).toBe(`${PROBLEM}unauthenticated`);
    const forged = await ctx.agent().get('/api/v1/me').set('Authorization', `Bearer pcat_${'A'.repeat(43)}`);
    expect(forged.status).toBe(401);
    expect(forged.body.type).toBe(`${PROBLEM}invalid-token`);
  });

  it('revokes the current token (DELETE /tokens/current) for any account', async () => {
    const { user } = await adminAndUser(ctx);
    expect((await user.delete('/tokens/current')).status).toBe(204);
    expect((await user.get('/me')).status).toBe(401);
    const revoked = await ctx.services.audit.query({ event: 'token_revoked', username: 'alice' });
    expect(revoked.events[0]).toMatchObject({ actor: 'alice', details: { reason: 'signed_out' } });
  });

  it('lets administrators list tokens (without secrets) and revoke any of them by id', async () => {
    const { admin, user } = await adminAndUser(ctx);
    const list = await admin.get('/tokens?username=alice');
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(1);
    expect(list.body.items[0]).toMatchObject({ username: 'alice', scope: 'full', clientIp: expect.any(String) });
    expect(JSON.stringify(list.body)).not.toContain(user.token);
    const id = list.body.items[0].id as string;
    expect((await admin.delete(`/tokens/${id}`)).status).toBe(204);
    expect((await user.get('/me')).status).toBe(401);
    const again = await admin.delete(`/tokens/${id}`);
    expect(again.status).toBe(404);
    expect(again.body.type).toBe(`${PROBLEM}not-found`);
    expect((await admin.delete('/tokens/not-a-token-id')).status).toBe(404);
    const revoked = await ctx.services.audit.query({ event: 'token_revoked', username: 'alice' });
    expect(revoked.events[0]).toMatchObject({ actor: 'root', details: { tokenId: id, reason: 'revoked_by_administrator' } });
  });

  it('checks role and enabled on every call: demotion and disabling take effect at once', async () => {
    await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin' });
    await ctx.addUser('second', ADMIN_PASSWORD, { role: 'admin' });
    const root = await signIn(ctx, 'root', ADMIN_PASSWORD);
    const second = await signIn(ctx, 'second', ADMIN_PASSWORD);
    expect((await second.get('/accounts')).status).toBe(200);
    const account = await ctx.services.accountService.requireByUsername('second');
    expect((await root.patch(`/accounts/${account.id}`, { role: 'user' }, `"${account.version}"`)).status).toBe(200);
    const demoted = await second.get('/accounts');
    expect(demoted.status).toBe(403);
    expect(demoted.body.type).toBe(`${PROBLEM}forbidden`);
    expect((await second.get('/me')).status).toBe(200);
    const current = await ctx.services.accountService.get(account.id);
    expect((await root.patch(`/accounts/${account.id}`, { enabled: false }, `"${current.version}"`)).status).toBe(200);
    expect((await second.get('/me')).status).toBe(401);
    expect(await ctx.services.db.knex('api_tokens').where({ account_id: account.id })).toHaveLength(0);
  });

  it('exchanges a live CAS ticket-granting ticket (the TGC of a login) for a token', async () => {
    await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin' });
    const browser = ctx.agent();
    const login = await submitLogin(browser, 'root', ADMIN_PASSWORD);
    const tgt = /TGC=(TGT-[A-Za-z0-9]+)/.exec(String(login.headers['set-cookie']))?.[1] as string;
    expect(tgt).toBeDefined();
    const res = await new ApiClient(ctx).post('/tokens', { ticketGrantingTicket: tgt });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ scope: 'full', account: { username: 'root' } });
    expect((await new ApiClient(ctx, res.body.token).get('/stats')).status).toBe(200);
    const issued = await ctx.services.audit.query({ event: 'token_issued' });
    expect(issued.events[0].details).toMatchObject({ channel: 'cas_tgt' });
    const unknown = await new ApiClient(ctx).post('/tokens', { ticketGrantingTicket: 'TGT-doesnotexist' });
    expect(unknown.status).toBe(401);
    expect(unknown.body.type).toBe(`${PROBLEM}invalid-credentials`);
    expect((await ctx.services.audit.query({ event: 'token_refused' })).events[0].details).toMatchObject({ reason: 'unknown_tgt' });
  });

  it('a token exchanged for a TGT ends with the session: at its end of life, or when the user signs out', async () => {
    await ctx.close();
    ctx = await createTestContext({ overrides: { api: { tokenTtlSeconds: 600 }, tickets: { tgtIdleTimeoutSeconds: 300, tgtHardTimeoutSeconds: 3600 } } });
    await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin' });
    const login = await submitLogin(ctx.agent(), 'root', ADMIN_PASSWORD);
    const tgt = /TGC=(TGT-[A-Za-z0-9]+)/.exec(String(login.headers['set-cookie']))?.[1] as string;
    const res = await new ApiClient(ctx).post('/tokens', { ticketGrantingTicket: tgt });
    expect(res.status).toBe(201);
    expect(Date.parse(res.body.expiresAt) - ctx.clock.now()).toBe(300_000);
    const client = new ApiClient(ctx, res.body.token);
    ctx.clock.advance(299_000);
    expect((await client.get('/me')).status).toBe(200);
    ctx.clock.advance(2_000);
    expect((await client.get('/me')).status).toBe(401);
    // Credentials are not tied to a session: the configured lifetime applies.
    const byPassword = await new ApiClient(ctx).post('/tokens', { username: 'root', password: ADMIN_PASSWORD });
    expect(Date.parse(byPassword.body.expiresAt) - ctx.clock.now()).toBe(600_000);

    // Signing out of the session ends the tokens exchanged for it, and only those.
    const browser = ctx.agent();
    const again = await submitLogin(browser, 'root', ADMIN_PASSWORD);
    const secondTgt = /TGC=(TGT-[A-Za-z0-9]+)/.exec(String(again.headers['set-cookie']))?.[1] as string;
    const sessionToken = new ApiClient(ctx, (await new ApiClient(ctx).post('/tokens', { ticketGrantingTicket: secondTgt })).body.token);
    const passwordToken = new ApiClient(ctx, byPassword.body.token);
    expect((await sessionToken.get('/me')).status).toBe(200);
    expect((await passwordToken.get('/tokens')).body.items).toHaveLength(2);
    expect((await browser.get('/cas/logout')).status).toBe(200);
    expect((await sessionToken.get('/me')).status).toBe(401);
    expect((await passwordToken.get('/me')).status).toBe(200);
    expect((await passwordToken.get('/tokens')).body.items.map((t: { id: string }) => t.id)).toEqual([byPassword.body.id]);
  });

  it('gives an account that must change its password only a password_change token', async () => {
    await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin', mustChangePassword: true });
    const res = await new ApiClient(ctx).post('/tokens', { username: 'root', password: ADMIN_PASSWORD });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ scope: 'password_change', passwordChange: 'initial' });
    const restricted = new ApiClient(ctx, res.body.token);
    const refused = await restricted.get('/accounts');
    expect(refused.status).toBe(403);
    expect(refused.body.type).toBe(`${PROBLEM}password-change-required`);
    expect((await restricted.get('/me')).body).toMatchObject({ username: 'root', mustChangePassword: true, tokenScope: 'password_change' });
    expect((await restricted.post('/me/password', { currentPassword: ADMIN_PASSWORD, newPassword: 'Brand-New-Secret-9' })).status).toBe(204);
    // The restricted token is spent; a fresh sign-in yields a full token.
    expect((await restricted.get('/me')).status).toBe(401);
    const full = await signIn(ctx, 'root', 'Brand-New-Secret-9');
    expect((await full.get('/accounts')).status).toBe(200);
    const forbidden = await ctx.services.audit.query({ event: 'api_forbidden' });
    expect(forbidden.events[0]).toMatchObject({ username: 'root', details: { path: '/api/v1/accounts', reason: 'password_change_required' } });
  });
});
