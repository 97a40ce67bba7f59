import { type TestContext, createTestContext } from '../support/test-app';
import { type ApiClient, adminAndUser } from '../support/admin-api';
import { VERSION } from '../../src/shared/version';

describe('administration API: accounts by username, version', () => {
  let ctx: TestContext;
  let admin: ApiClient;
  let user: ApiClient;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 900 } } });
    ({ admin, user } = await adminAndUser(ctx));
  });
  afterEach(() => ctx.close());

  it('answers every /accounts/{id} call at /accounts/by-name/{username} with the same rules', async () => {
    const alice = await ctx.services.accountService.requireByUsername('alice');
    const shown = await admin.get('/accounts/by-name/ALICE');
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual((await admin.get(`/accounts/${alice.id}`)).body);
    expect(shown.headers.etag).toBe('"1"');

    for (let i = 0; i < 3; i++) await ctx.agent().post('/api/v1/tokens').send({ username: 'alice', password: `wrong-${i}-pass` });
    expect((await admin.get('/accounts/by-name/alice/lockout')).body.locked).toBe(true);
    const unlocked = await admin.post('/accounts/by-name/alice/unlock');
    expect([unlocked.status, unlocked.body]).toEqual([200, { failureCount: 0, locked: false, lockedUntil: null }]);
    expect((await ctx.services.audit.query({ event: 'account_unlocked', username: 'alice' })).events[0].actor).toBe('root');

    expect((await admin.patch('/accounts/by-name/alice', { displayName: 'Alice A' })).status).toBe(428);
    const patched = await admin.patch('/accounts/by-name/alice', { displayName: 'Alice A' }, '"1"');
    expect([patched.status, patched.body.displayName]).toEqual([200, 'Alice A']);
    // The same rules as by id: the last enabled administrator stays.
    expect((await admin.delete('/accounts/by-name/root')).status).toBe(409);

    const missing = await admin.get('/accounts/by-name/nobody');
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toBe('No account named "nobody".');
    expect((await user.get('/accounts/by-name/alice')).status).toBe(403);
    expect((await admin.delete('/accounts/by-name/alice')).status).toBe(204);
    expect(await ctx.services.accountService.findByUsername('alice')).toBeNull();
  });

  it('lists the by-name calls in the OpenAPI document', async () => {
    const paths = (await admin.get('/openapi.json')).body.paths as Record<string, Record<string, { parameters?: { name: string }[] }>>;
    expect(Object.keys(paths['/accounts/by-name/{username}']).sort()).toEqual(['delete', 'get', 'patch']);
    expect(paths['/accounts/by-name/{username}/unlock'].post.parameters?.map((p) => p.name)).toEqual(['username']);
    expect(paths['/version'].get).toBeDefined();
  });

  it('GET /version answers administrators; /metrics carries portcullis_build_info', async () => {
    const version = await admin.get('/version');
    expect(version.status).toBe(200);
    expect(version.body).toEqual({ version: VERSION, node: process.versions.node });
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect((await user.get('/version')).status).toBe(403);
    // /metrics on the main port needs an administrator's token (README: Health, metrics and logs).
    const metrics = await ctx.agent().get('/metrics').set('Authorization', `Bearer ${admin.token}`);
    expect(metrics.text).toContain(`portcullis_build_info{version="${VERSION}",service="portcullis"} 1`);
  });
});
