import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { type ApiClient, USER_PASSWORD, adminAndUser, signIn } from '../support/admin-api';

const PROBLEM = 'https://portcullis.dev/problems/';

describe('administration API: accounts', () => {
  let ctx: TestContext;
  let admin: ApiClient;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 900 }, administrators: { maxAdministratorCount: 2 }, api: { tokenTtlSeconds: 3600 } } });
    ({ admin } = await adminAndUser(ctx));
  });
  afterEach(() => ctx.close());

  async function create(body: Record<string, unknown>) {
    const res = await admin.post('/accounts', body);
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
    return res;
  }

  it('creates an account (201, Location, ETag) that can sign in, and audits the acting administrator', async () => {
    const res = await admin.post('/accounts', { username: 'Carol', password: 'Secret-Pass-41', displayName: 'Carol C', email: 'carol@example.test', description: 'Finance' });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/accounts/${res.body.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toMatchObject({ username: 'Carol', displayName: 'Carol C', email: 'carol@example.test', role: 'user', enabled: true, source: 'internal', hasPassword: true, legacyPasswordHash: false, version: 1 });
    expect(res.body).not.toHaveProperty('passwordHash');
    expect(JSON.stringify(res.body)).not.toMatch(/argon2/);
    expect((await submitLogin(ctx.agent(), 'carol', 'Secret-Pass-41')).status).toBe(200);
    const audit = await ctx.services.audit.query({ event: 'account_created', username: 'Carol' });
    expect(audit.events[0]).toMatchObject({ actor: 'root', clientIp: expect.any(String) });
    expect(JSON.stringify(audit.events)).not.toContain('Secret-Pass-41');
  });

  it('reports every validation problem with its field and rule (422), and rejects unknown fields', async () => {
    const res = await admin.post('/accounts', { username: '', role: 'superuser', email: 'not-an-address', isAdmin: true });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe(`${PROBLEM}validation-failed`);
    const fields = (res.body.errors as { field: string; rule: string }[]).map((e) => `${e.field}:${e.rule}`).sort();
    expect(fields).toEqual(['email:invalid_format', 'isAdmin:unknown_field', 'role:invalid_value', 'username:too_small']);
  });

  it('applies the password policy on create (422 password-policy with the broken rules)', async () => {
    const res = await admin.post('/accounts', { username: 'dave', password: 'short' });
    expect(res.status).toBe(422);
    expect(res.body.type).toBe(`${PROBLEM}password-policy`);
    expect((res.body.errors as { rule: string }[]).map((e) => e.rule)).toContain('min_length');
  });

  it('refuses a duplicate username with 409 username-taken', async () => {
    const res = await admin.post('/accounts', { username: 'ALICE' });
    expect(res.status).toBe(409);
    expect(res.body.type).toBe(`${PROBLEM}username-taken`);
  });

  it('refuses an administrator beyond MaxAdministratorCount with 409 naming the setting', async () => {
    await create({ username: 'second', role: 'admin' });
    const third = await admin.post('/accounts', { username: 'third', role: 'admin' });
    expect(third.status).toBe(409);
    expect(third.body.type).toBe(`${PROBLEM}administrator-limit`);
    expect(third.body.detail).toContain('MaxAdministratorCount');
    const alice = await ctx.services.accountService.requireByUsername('alice');
    const promote = await admin.patch(`/accounts/${alice.id}`, { role: 'admin' }, `"${alice.version}"`);
    expect(promote.status).toBe(409);
    expect(promote.body.detail).toContain('MaxAdministratorCount');
  });

  it('protects the last enabled administrator from demotion, disabling and deletion (409 last-administrator)', async () => {
    const root = await ctx.services.accountService.requireByUsername('root');
    const demote = await admin.patch(`/accounts/${root.id}`, { role: 'user' }, '*');
    expect(demote.status).toBe(409);
    expect(demote.body.type).toBe(`${PROBLEM}last-administrator`);
    expect((await admin.patch(`/accounts/${root.id}`, { enabled: false }, '*')).status).toBe(409);
    const remove = await admin.delete(`/accounts/${root.id}`);
    expect(remove.status).toBe(409);
    expect(remove.body.type).toBe(`${PROBLEM}last-administrator`);
  });

  it('gets one account with its ETag; unknown or malformed ids are 404', async () => {
    const alice = await ctx.services.accountService.requireByUsername('alice');
    const res = await admin.get(`/accounts/${alice.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe(`"${alice.version}"`);
    expect(res.body).toMatchObject({ id: alice.id, username: 'alice', lockout: { failureCount: 0, locked: false, lockedUntil: null } });
    for (const path of ['/accounts/9999', '/accounts/abc', '/accounts/0', '/accounts/9999/lockout', '/accounts/9999/unlock']) {
      const missing = path.endsWith('unlock') ? await admin.post(path) : await admin.get(path);
      expect([path, missing.status]).toEqual([path, 404]);
      expect(missing.body.type).toBe(`${PROBLEM}not-found`);
    }
    expect((await admin.delete('/accounts/9999')).status).toBe(404);
    expect((await admin.patch('/accounts/9999', { description: 'x' }, '*')).status).toBe(404);
    expect((await admin.post('/accounts/9999/password', { password: 'Whatever-Pass-1' })).status).toBe(404);
  });

  describe('updates with ETag / If-Match', () => {
    it('applies changes with a matching If-Match and returns the new ETag', async () => {
      const got = await admin.get(`/accounts/${(await ctx.services.accountService.requireByUsername('alice')).id}`);
      const res = await admin.patch(`/accounts/${got.body.id}`, { displayName: 'Alice A', email: 'alice@example.test', description: null }, got.headers.etag);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ displayName: 'Alice A', email: 'alice@example.test', description: null, version: got.body.version + 1 });
      expect(res.headers.etag).toBe(`"${got.body.version + 1}"`);
      const audit = await ctx.services.audit.query({ event: 'account_updated', username: 'alice' });
      expect(audit.events[0]).toMatchObject({ actor: 'root', details: { changes: ['displayName', 'email', 'description'] } });
    });

    it('answers 412 when another administrator changed the account since it was read', async () => {
      const id = (await ctx.services.accountService.requireByUsername('alice')).id;
      const first = await admin.get(`/accounts/${id}`);
      const second = await admin.get(`/accounts/${id}`);
      expect((await admin.patch(`/accounts/${id}`, { displayName: 'From admin one' }, first.headers.etag)).status).toBe(200);
      const stale = await admin.patch(`/accounts/${id}`, { displayName: 'From admin two' }, second.headers.etag);
      expect(stale.status).toBe(412);
      expect(stale.body.type).toBe(`${PROBLEM}precondition-failed`);
      expect((await admin.get(`/accounts/${id}`)).body.displayName).toBe('From admin one');
    });

    it('answers 412 for weak or unrelated tags, 428 without If-Match, and accepts "*" deliberately', async () => {
      const id = (await ctx.services.accountService.requireByUsername('alice')).id;
      const etag = (await admin.get(`/accounts/${id}`)).headers.etag as string;
      expect((await admin.patch(`/accounts/${id}`, { description: 'x' }, `W/${etag}`)).status).toBe(412);
      expect((await admin.patch(`/accounts/${id}`, { description: 'x' }, '"999", "998"')).status).toBe(412);
      const missing = await admin.patch(`/accounts/${id}`, { description: 'x' });
      expect(missing.status).toBe(428);
      expect(missing.body.type).toBe(`${PROBLEM}precondition-required`);
      expect((await admin.patch(`/accounts/${id}`, { description: 'x' }, `"1", ${etag}`)).status).toBe(200);
      expect((await admin.patch(`/accounts/${id}`, { description: 'y' }, '*')).status).toBe(200);
    });

    it('rejects empty and unknown changes (422) and fields that are not editable', async () => {
      const id = (await ctx.services.accountService.requireByUsername('alice')).id;
      const empty = await admin.patch(`/accounts/${id}`, {}, '*');
      expect(empty.status).toBe(422);
      expect(empty.body.errors[0]).toMatchObject({ rule: 'custom', message: 'name at least one field to change' });
      const username = await admin.patch(`/accounts/${id}`, { username: 'mallory' }, '*');
      expect(username.status).toBe(422);
      expect(username.body.errors).toContainEqual({ field: 'username', rule: 'unknown_field', message: 'is not a field of this request' });
      const wrongType = await admin.patch(`/accounts/${id}`, { enabled: 'no' }, '*');
      expect(wrongType.status).toBe(422);
      expect(wrongType.body.errors[0]).toMatchObject({ field: 'enabled', rule: 'invalid_type' });
    });

    it('disabling an account revokes its tokens and stops its sign-ins', async () => {
      const alice = await ctx.services.accountService.requireByUsername('alice');
      const aliceApi = await signIn(ctx, 'alice', USER_PASSWORD);
      expect((await admin.patch(`/accounts/${alice.id}`, { enabled: false }, '*')).status).toBe(200);
      expect((await aliceApi.get('/me')).status).toBe(401);
      expect((await submitLogin(ctx.agent(), 'alice', USER_PASSWORD)).status).not.toBe(200);
      const revoked = await ctx.services.audit.query({ event: 'token_revoked', username: 'alice' });
      expect(revoked.events.map((e) => e.details?.reason)).toContain('account_disabled');
      expect((await admin.patch(`/accounts/${alice.id}`, { enabled: true }, '*')).status).toBe(200);
      expect((await submitLogin(ctx.agent(), 'alice', USER_PASSWORD)).status).toBe(200);
    });
  });

  it('deletes an account (204); its tokens go with it', async () => {
    const carol = await create({ username: 'carol', password: 'Secret-Pass-41' });
    const carolApi = await signIn(ctx, 'carol', 'Secret-Pass-41');
    expect((await admin.delete(`/accounts/${carol.body.id}`)).status).toBe(204);
    expect((await admin.get(`/accounts/${carol.body.id}`)).status).toBe(404);
    expect((await carolApi.get('/me')).status).toBe(401);
    expect(await ctx.services.db.knex('api_tokens').where({ username: 'carol' })).toHaveLength(0);
    expect((await ctx.services.audit.query({ event: 'account_deleted', username: 'carol' })).events[0].actor).toBe('root');
  });

  it('resets a password, forcing a change at the next sign-in by default', async () => {
    const alice = await ctx.services.accountService.requireByUsername('alice');
    const aliceApi = await signIn(ctx, 'alice', USER_PASSWORD);
    expect((await admin.post(`/accounts/${alice.id}/password`, { password: 'Temporary-Pass-7' })).status).toBe(204);
    expect((await aliceApi.get('/me')).status).toBe(401);
    const token = await ctx.agent().post('/api/v1/tokens').send({ username: 'alice', password: 'Temporary-Pass-7' });
    expect(token.body).toMatchObject({ scope: 'password_change', passwordChange: 'initial' });
    expect((await admin.get(`/accounts/${alice.id}`)).body.mustChangePassword).toBe(true);
    expect((await admin.post(`/accounts/${alice.id}/password`, { password: 'Second-Temporary-8', mustChangePassword: false })).status).toBe(204);
    expect((await ctx.agent().post('/api/v1/tokens').send({ username: 'alice', password: 'Second-Temporary-8' })).body.scope).toBe('full');
    const changed = await ctx.services.audit.query({ event: 'password_changed', username: 'alice' });
    expect(changed.events[0]).toMatchObject({ actor: 'root', details: { forcedChangeNext: false } });
    const weak = await admin.post(`/accounts/${alice.id}/password`, { password: 'alice123' });
    expect(weak.status).toBe(422);
    expect(weak.body.type).toBe(`${PROBLEM}password-policy`);
    const extra = await admin.post(`/accounts/${alice.id}/password`, { password: 'Good-Password-9', notify: true });
    expect(extra.status).toBe(422);
  });

  it('shows lockout state and unlocks', async () => {
    const alice = await ctx.services.accountService.requireByUsername('alice');
    for (let i = 0; i < 3; i++) await ctx.agent().post('/api/v1/tokens').send({ username: 'alice', password: `wrong-${i}-pass` });
    const state = await admin.get(`/accounts/${alice.id}/lockout`);
    expect(state.status).toBe(200);
    expect(state.body).toEqual({ failureCount: 3, locked: true, lockedUntil: new Date(ctx.clock.now() + 900_000).toISOString() });
    expect((await admin.get(`/accounts/${alice.id}`)).body.lockout.locked).toBe(true);
    const unlocked = await admin.post(`/accounts/${alice.id}/unlock`);
    expect(unlocked.status).toBe(200);
    expect(unlocked.body).toEqual({ failureCount: 0, locked: false, lockedUntil: null });
    expect((await ctx.agent().post('/api/v1/tokens').send({ username: 'alice', password: USER_PASSWORD })).status).toBe(201);
    expect((await ctx.services.audit.query({ event: 'account_unlocked', username: 'alice' })).events[0].actor).toBe('root');
    expect((await ctx.services.audit.query({ event: 'account_locked', username: 'alice' })).total).toBe(1);
  });

  describe('listing', () => {
    beforeEach(async () => {
      await create({ username: 'second', role: 'admin' });
      for (const name of ['dora', 'erin', 'frank']) await create({ username: name });
      await create({ username: 'gone', enabled: false });
      for (let i = 0; i < 3; i++) await ctx.agent().post('/api/v1/tokens').send({ username: 'dora', password: `wrong-${i}-pass` });
    });

    const names = (body: { items: { username: string }[] }) => body.items.map((a) => a.username);

    it('pages in username order with a total', async () => {
      const first = await admin.get('/accounts?limit=3');
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ total: 7, offset: 0, limit: 3 });
      expect(names(first.body)).toEqual(['alice', 'dora', 'erin']);
      const next = await admin.get('/accounts?offset=3&limit=3');
      expect(names(next.body)).toEqual(['frank', 'gone', 'root']);
    });

    it('filters by role, source, state, locked and name', async () => {
      expect(names((await admin.get('/accounts?role=admin')).body)).toEqual(['root', 'second']);
      expect((await admin.get('/accounts?source=internal')).body.total).toBe(7);
      expect((await admin.get('/accounts?source=ldap')).body.total).toBe(0);
      expect(names((await admin.get('/accounts?state=disabled')).body)).toEqual(['gone']);
      expect((await admin.get('/accounts?state=enabled')).body.total).toBe(6);
      expect(names((await admin.get('/accounts?locked=true')).body)).toEqual(['dora']);
      expect((await admin.get('/accounts?locked=false')).body.total).toBe(6);
      expect(names((await admin.get('/accounts?search=R')).body)).toEqual(['dora', 'erin', 'frank', 'root']);
      expect(names((await admin.get('/accounts?search=%25')).body)).toEqual([]);
      expect(names((await admin.get('/accounts?role=user&state=enabled&locked=false')).body)).toEqual(['alice', 'erin', 'frank']);
      ctx.clock.advance(900_001);
      expect((await admin.get('/accounts?locked=true')).body.total).toBe(0);
    });

    it('rejects bad query parameters with 422 and each offending parameter', async () => {
      const res = await admin.get('/accounts?limit=0&role=root&colour=blue&locked=yes');
      expect(res.status).toBe(422);
      const fields = (res.body.errors as { field: string }[]).map((e) => e.field).sort();
      expect(fields).toEqual(['colour', 'limit', 'locked', 'role']);
      expect((await admin.get('/accounts?limit=501')).status).toBe(422);
      expect((await admin.get('/accounts?role=user&role=admin')).status).toBe(400);
      expect((await admin.get('/me?x=1')).status).toBe(422);
    });
  });
});
