import { type TestContext, createTestContext } from '../support/test-app';
import { type ApiClient, adminAndUser } from '../support/admin-api';

/**
 * Lock state in the API's lists and statistics comes from the regulator's
 * rule (src/policy/regulator.ts), as for one account; and there is one
 * account-list query, so every list compares names as sign-in does.
 */
describe('administration API: lock views and the one account list', () => {
  let ctx: TestContext;
  let admin: ApiClient;
  afterEach(() => ctx.close());

  async function start(maxAllowedLoginFailureCount: number): Promise<void> {
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount, userLockoutTimeout: 900 } } });
    ({ admin } = await adminAndUser(ctx));
    // A lock running past now, as earlier failures (or another instance) left it.
    await ctx.services.db.knex('lockout_state').insert({ username_key: 'alice', failure_count: 3, locked_until: ctx.clock.now() + 60_000, last_failure_at: ctx.clock.now() });
  }

  it('counts a lock in GET /stats exactly when the account views show it locked', async () => {
    await start(3);
    const listed = (await admin.get('/accounts?search=alice')).body.items[0];
    expect(listed.lockout.locked).toBe(true);
    expect((await admin.get('/stats')).body.accounts.lockedNow).toBe(1);
  });

  it('with lockout turned off, a stored lock shows in neither the list nor GET /stats', async () => {
    await start(0);
    const listed = (await admin.get('/accounts?search=alice')).body.items[0];
    expect(listed.lockout).toEqual({ failureCount: 3, locked: false, lockedUntil: null });
    expect((await admin.get('/stats')).body.accounts.lockedNow).toBe(0);
  });

  it('filters ?locked= by the same rule: with lockout off nothing is locked, and with it on the stored lock counts', async () => {
    const names = async (query: string) => (await admin.get(`/accounts?${query}`)).body.items.map((a: { username: string }) => a.username);
    await start(0);
    expect(await names('locked=true')).toEqual([]);
    expect(await names('locked=false')).toContain('alice');
    await ctx.close();
    await start(3);
    expect(await names('locked=true')).toEqual(['alice']);
    expect(await names('locked=false')).not.toContain('alice');
  });

  it('finds a name searched in another Unicode form (full-width, upper case) in the API and the repository the CLI lists with', async () => {
    await start(3);
    expect((await admin.get(`/accounts?search=${encodeURIComponent('ＡＬＩ')}`)).body.items.map((a: { username: string }) => a.username)).toEqual(['alice']);
    expect((await ctx.services.accounts.list({ search: 'ＡＬＩ' })).accounts.map((a) => a.username)).toEqual(['alice']);
  });
});
