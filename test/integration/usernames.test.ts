import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { type ApiClient, ApiClient as Client, adminAndUser } from '../support/admin-api';
import { parseRow } from '../../src/jobs/legacy-import';
import { auditNames } from '../../src/cli/audit-names';
import { InputError } from '../../src/shared/errors';
import { usernameKey } from '../../src/shared/username';

/**
 * New usernames that could pass for someone else are refused on every way
 * in (API, CLI, legacy import, directory provisioning); existing ones keep
 * signing in and are reported by `portcullis user audit-names`. On SQLite and,
 * in the test command's third pass, PostgreSQL.
 */
describe('look-alike usernames', () => {
  let ctx: TestContext;
  let admin: ApiClient;
  const LEGACY = 'legacy\u200buser';
  const PASSWORD = 'Legacy-Pass-2024';
  beforeAll(async () => {
    ctx = await createTestContext({ overrides: { api: { tokenTtlSeconds: 3600 } } });
    ({ admin } = await adminAndUser(ctx));
    // An account created before the rules existed (as a restore or an old release could leave it).
    const account = await ctx.services.accounts.transaction((tx) =>
      tx.insert({ username: LEGACY, usernameKey: usernameKey(LEGACY), role: 'user', source: 'internal', displayName: null, email: null }, ctx.clock.now()),
    );
    await ctx.services.accountService.setPassword(account, PASSWORD, { mustChange: false, actor: { name: 'test' } });
  });
  afterAll(() => ctx.close());

  it('refuses them through the API with 422 naming the username, and creates nothing', async () => {
    for (const name of ['admin\u200b', '\u202eadmin', 'adm\u0085in', 'ad\u0378min']) {
      const res = await admin.post('/accounts', { username: name, password: 'Whatever-Pass-41' });
      expect([name, res.status]).toEqual([name, 422]);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'username', rule: 'username_characters' })]);
      expect(res.body.detail).toMatch(/^Username contains U\+[0-9A-F]{4}, /);
    }
    expect((await admin.get('/accounts')).body.total).toBe(3);
  });

  it('refuses them from the CLI path (account service), the legacy import and directory provisioning', async () => {
    await expect(ctx.services.accountService.create({ username: 'root\u2066', role: 'admin' }, { name: 'cli' })).rejects.toThrow(/contains U\+2066/);
    const row = parseRow(2, ['admin\u200b', 'd41d8cd98f00b204e9800998ecf8427e'], { username: 0, md5: 1, displayName: undefined, email: undefined, role: undefined, enabled: undefined }, 2);
    expect(row).toEqual({ line: 2, message: expect.stringMatching(/^invalid username: Username contains U\+200B, /) });
    await expect(ctx.services.accountService.provisionDirectoryAccount({ username: 'dir\u00adadmin', source: 'ldap', attributes: {} })).rejects.toThrow(InputError);
    expect(await ctx.services.accountService.findByUsername('dir\u00adadmin')).toBeNull();
    // Names that differ only in width or case are still one account.
    expect((await admin.post('/accounts', { username: 'ＡＬＩＣＥ' })).status).toBe(409);
  });

  it('lets an existing account whose name breaks the rules sign in, and a refused form of a new name fails as invalid credentials', async () => {
    expect((await submitLogin(ctx.agent(), LEGACY, PASSWORD)).status).toBe(200);
    const token = await new Client(ctx).post('/tokens', { username: LEGACY, password: PASSWORD });
    expect(token.status).toBe(201);
    expect((await submitLogin(ctx.agent(), 'alice\u200b', PASSWORD)).status).toBe(401);
    expect((await new Client(ctx).post('/tokens', { username: 'alice\u202e', password: PASSWORD })).status).toBe(401);
    const rest = await ctx.agent().post('/cas/v1/tickets').type('form').send({ username: 'alice\u0085', password: PASSWORD });
    expect(rest.status).toBe(401);
  });

  it('reports existing offending names with the reason (portcullis user audit-names), changing nothing', async () => {
    const before = await ctx.services.db.knex('accounts').orderBy('id').select('*');
    const lines: string[] = [];
    const found = await auditNames(ctx.services.accounts, (text) => lines.push(text));
    expect(found).toBe(1);
    expect(lines).toEqual([`"legacy\\u200buser"\tid=${before[2].id}\tsource=internal\tcontains U+200B, an invisible formatting character (zero-width, bidirectional or similar)\n`, '1 of 3 account names would be refused as new names\n']);
    expect(await ctx.services.db.knex('accounts').orderBy('id').select('*')).toEqual(before);
  });
});
