import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { ADMIN_PASSWORD, ApiClient, USER_PASSWORD, adminAndUser, signIn } from '../support/admin-api';

const DAY = 86_400_000;
const PROBLEM = 'https://portcullis.dev/problems/';

describe('account lifecycle through the administration API', () => {
  let ctx: TestContext;
  afterEach(() => ctx?.close());

  describe('InactiveAccountDisableDays', () => {
    beforeEach(async () => {
      ctx = await createTestContext({ overrides: { accounts: { inactiveAccountDisableDays: 30 }, api: { tokenTtlSeconds: 3600 } } });
    });

    it('disables accounts unused for the configured days (never-used ones by creation date), audits it, and they cannot sign in', async () => {
      await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin' });
      await ctx.addUser('alice', USER_PASSWORD);
      await ctx.addUser('dormant', 'Sleepy-Pass-2024');
      expect((await submitLogin(ctx.agent(), 'alice', USER_PASSWORD)).status).toBe(200);
      ctx.clock.advance(29 * DAY);
      expect(await ctx.services.accountService.disableInactiveAccounts()).toBe(0);
      expect((await submitLogin(ctx.agent(), 'alice', USER_PASSWORD)).status).toBe(200);
      expect((await submitLogin(ctx.agent(), 'root', ADMIN_PASSWORD)).status).toBe(200);
      ctx.clock.advance(2 * DAY);
      // dormant: created 31 days ago and never used; alice and root signed in 2 days ago.
      expect(await ctx.services.accountService.disableInactiveAccounts()).toBe(1);
      const admin = await signIn(ctx, 'root', ADMIN_PASSWORD);
      expect((await admin.get('/accounts?state=disabled')).body.items.map((a: { username: string }) => a.username)).toEqual(['dormant']);
      const audit = await admin.get('/audit?event=account_disabled_inactive');
      expect(audit.body.items).toEqual([expect.objectContaining({ username: 'dormant', actor: 'system', outcome: 'info', details: { inactiveDays: 30 } })]);
      const refused = await new ApiClient(ctx).post('/tokens', { username: 'dormant', password: 'Sleepy-Pass-2024' });
      expect(refused.status).toBe(403);
      expect(refused.body.type).toBe(`${PROBLEM}account-disabled`);
      ctx.clock.advance(29 * DAY);
      // Day 60: root signed in at day 31 (through the API), alice last at day 29: only alice is stale now.
      expect(await ctx.services.accountService.disableInactiveAccounts()).toBe(1);
      expect((await ctx.services.accountService.requireByUsername('alice')).enabled).toBe(false);
      expect((await ctx.services.accountService.requireByUsername('root')).enabled).toBe(true);
    });

    it('does nothing when InactiveAccountDisableDays is 0', async () => {
      await ctx.close();
      ctx = await createTestContext({ overrides: { accounts: { inactiveAccountDisableDays: 0 } } });
      await ctx.addUser('alice', USER_PASSWORD);
      ctx.clock.advance(3650 * DAY);
      expect(await ctx.services.accountService.disableInactiveAccounts()).toBe(0);
      expect((await ctx.services.accountService.requireByUsername('alice')).enabled).toBe(true);
    });
  });

  describe('password maximum age', () => {
    beforeEach(async () => {
      ctx = await createTestContext({ overrides: { password: { maxAgeDays: 90 } } });
    });

    it('shows the expiry, and after it forces a change before any other API call', async () => {
      await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin' });
      const created = ctx.clock.now();
      const fresh = await signIn(ctx, 'root', ADMIN_PASSWORD);
      expect((await fresh.get('/me')).body.passwordExpiresAt).toBe(new Date(created + 90 * DAY).toISOString());
      ctx.clock.advance(90 * DAY);
      const res = await new ApiClient(ctx).post('/tokens', { username: 'root', password: ADMIN_PASSWORD });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ scope: 'password_change', passwordChange: 'expired' });
      const restricted = new ApiClient(ctx, res.body.token);
      expect((await restricted.get('/stats')).status).toBe(403);
      expect((await restricted.post('/me/password', { currentPassword: ADMIN_PASSWORD, newPassword: 'Renewed-Secret-2025' })).status).toBe(204);
      const renewed = await signIn(ctx, 'root', 'Renewed-Secret-2025');
      expect((await renewed.get('/stats')).status).toBe(200);
      expect((await renewed.get('/me')).body.passwordExpiresAt).toBe(new Date(ctx.clock.now() + 90 * DAY).toISOString());
      // The login page applies the same rule.
      ctx.clock.advance(91 * DAY);
      expect((await submitLogin(ctx.agent(), 'root', 'Renewed-Secret-2025')).text).toMatch(/password/i);
    });
  });

  describe('own password changes (POST /me/password)', () => {
    let user: ApiClient;
    beforeEach(async () => {
      ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 900 } } });
      ({ user } = await adminAndUser(ctx));
    });

    it('refuses the last 5 passwords (default history) and accepts the 6th-oldest', async () => {
      const passwords = [USER_PASSWORD, 'History-Pass-01', 'History-Pass-02', 'History-Pass-03', 'History-Pass-04', 'History-Pass-05'];
      let client = user;
      for (let i = 1; i < passwords.length; i++) {
        expect((await client.post('/me/password', { currentPassword: passwords[i - 1], newPassword: passwords[i] })).status).toBe(204);
        client = await signIn(ctx, 'alice', passwords[i]);
      }
      // Current is History-Pass-05; the last five are 05, 04, 03, 02, 01.
      for (const reused of passwords.slice(1)) {
        const res = await client.post('/me/password', { currentPassword: 'History-Pass-05', newPassword: reused });
        expect([reused, res.status]).toEqual([reused, 422]);
        expect(res.body.type).toBe(`${PROBLEM}password-policy`);
        expect(res.body.errors).toEqual([{ rule: 'reused', message: 'must not be one of the last 5 passwords' }]);
      }
      expect((await client.post('/me/password', { currentPassword: 'History-Pass-05', newPassword: USER_PASSWORD })).status).toBe(204);
    });

    it('applies the password policy and never echoes passwords into the audit trail', async () => {
      const weak = await user.post('/me/password', { currentPassword: USER_PASSWORD, newPassword: 'password' });
      expect(weak.status).toBe(422);
      expect((weak.body.errors as { rule: string }[]).map((e) => e.rule)).toEqual(expect.arrayContaining(['digit_or_special', 'blocklisted']));
      expect((await user.post('/me/password', { currentPassword: USER_PASSWORD, newPassword: 'Quite-Good-Pass-9' })).status).toBe(204);
      const rows = await ctx.services.db.knex('audit_events').select('details');
      expect(JSON.stringify(rows)).not.toMatch(/Quite-Good-Pass-9|User-Pass-2024/);
    });

    it('counts wrong current passwords towards the lockout (403, then 423)', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await user.post('/me/password', { currentPassword: `guess-${i}-xx`, newPassword: 'Whatever-Pass-9' });
        expect(res.status).toBe(403);
        expect(res.body.type).toBe(`${PROBLEM}current-password-incorrect`);
      }
      const locked = await user.post('/me/password', { currentPassword: USER_PASSWORD, newPassword: 'Whatever-Pass-9' });
      expect(locked.status).toBe(423);
      expect((await new ApiClient(ctx).post('/tokens', { username: 'alice', password: USER_PASSWORD })).status).toBe(423);
      expect((await ctx.services.audit.query({ event: 'password_change', username: 'alice' })).total).toBe(3);
    });

    it('revokes the other tokens of the account but keeps the one used', async () => {
      const other = await signIn(ctx, 'alice', USER_PASSWORD);
      expect((await user.post('/me/password', { currentPassword: USER_PASSWORD, newPassword: 'Quite-Good-Pass-9' })).status).toBe(204);
      expect((await user.get('/me')).status).toBe(200);
      expect((await other.get('/me')).status).toBe(401);
    });
  });

  describe('policy, stats and audit', () => {
    let admin: ApiClient;
    beforeEach(async () => {
      ctx = await createTestContext({
        files: { 'private.config': '<configuration><appSettings><add key="MaxAllowedLoginFailureCount" value="5"/><add key="UserLockoutTimeout" value="600"/></appSettings></configuration>' },
        overrides: { password: { minLength: 10 } },
      });
      ({ admin } = await adminAndUser(ctx));
    });

    it('GET /policy shows each effective value with the file that set it', async () => {
      const res = await admin.get('/policy');
      expect(res.status).toBe(200);
      expect(res.body.lockout.maxAllowedLoginFailureCount).toEqual({ value: 5, source: expect.stringMatching(/private\.config$/) });
      expect(res.body.lockout.userLockoutTimeout).toEqual({ value: 600, source: expect.stringMatching(/private\.config$/) });
      expect(res.body.password.minLength).toEqual({ value: 10, source: 'overrides' });
      expect(res.body.password.historySize).toEqual({ value: 5, source: 'default' });
      expect(res.body.administrators.maxAdministratorCount).toEqual({ value: 2, source: 'default' });
      expect(res.body.accounts.inactiveAccountDisableDays).toEqual({ value: 0, source: 'default' });
    });

    it('GET /stats counts accounts, locks, tokens and the legacy MD5 hashes left', async () => {
      await ctx.services.db.knex('accounts').insert({
        username: 'legacy', username_key: 'legacy', role: 'user', enabled: true, source: 'internal',
        password_hash: '5f4dcc3b5aa765d61d8327deb882cf99', must_change_password: false, created_at: ctx.clock.now(), updated_at: ctx.clock.now(), version: 1,
      });
      const before = await admin.get('/stats');
      expect(before.body).toEqual({
        accounts: { total: 3, administrators: 1, enabled: 3, disabled: 0, lockedNow: 0, mustChangePassword: 0 },
        legacyMd5Hashes: 1,
        activeTokens: 2,
        maxAdministratorCount: 2,
      });
      // Signing in with the legacy hash upgrades it to Argon2id.
      expect((await new ApiClient(ctx).post('/tokens', { username: 'legacy', password: 'password' })).status).toBe(201);
      expect((await admin.get('/stats')).body.legacyMd5Hashes).toBe(0);
    });

    it('GET /audit pages newest first and filters by user, event type and time range', async () => {
      const start = ctx.clock.now();
      ctx.clock.advance(60_000);
      await new ApiClient(ctx).post('/tokens', { username: 'alice', password: 'wrong-wrong-1' });
      ctx.clock.advance(60_000);
      await new ApiClient(ctx).post('/tokens', { username: 'alice', password: USER_PASSWORD });
      const all = await admin.get('/audit?limit=2');
      expect(all.status).toBe(200);
      expect(all.body.items).toHaveLength(2);
      expect(all.body.total).toBeGreaterThan(4);
      const logins = await admin.get('/audit?username=alice&event=login');
      expect(logins.body.items.map((e: { outcome: string }) => e.outcome)).toEqual(['success', 'failure', 'success']);
      expect(logins.body.items[1]).toMatchObject({ backend: 'internal', clientIp: expect.any(String), details: { reason: 'bad_credentials', channel: 'api_token' } });
      const window = await admin.get(`/audit?username=alice&event=login&from=${new Date(start + 30_000).toISOString()}&to=${new Date(start + 90_000).toISOString()}`);
      expect(window.body.items.map((e: { outcome: string }) => e.outcome)).toEqual(['failure']);
      expect(window.body.items[0].at).toBe(new Date(start + 60_000).toISOString());
      const bad = await admin.get('/audit?from=yesterday');
      expect(bad.status).toBe(422);
      expect(bad.body.errors[0]).toMatchObject({ field: 'from' });
    });
  });
});
