/**
 * `portcullis user merge FROM INTO` (issue 17): folds a duplicate account
 * into the canonical one. Runs on SQLite and, with PORTCULLIS_TEST_DB=postgres,
 * on PostgreSQL.
 */
import { ApiTokenService } from '../../src/admin/api-tokens';
import { KnexApiTokenStore } from '../../src/storage/api-token-store';
import { mergeAccounts } from '../../src/cli/user-merge';
import { UsageError } from '../../src/cli/command-table';
import { runCommand } from '../../src/cli/commands';
import type { CliContext } from '../../src/cli/context';
import type { Services } from '../../src/services';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';

const PASSWORD = 'Correct-Horse-7';

describe('portcullis user merge', () => {
  let ctx: TestContext;
  let tokens: ApiTokenService;
  const withServices = <T>(work: (services: Services) => Promise<T>) => work(ctx.services);
  const io = () => {
    const lines = { out: '', err: '' };
    return { lines, interactive: false, out: (t: string) => void (lines.out += t), err: (t: string) => void (lines.err += t) };
  };

  beforeEach(async () => {
    ctx = await createTestContext();
    tokens = new ApiTokenService(new KnexApiTokenStore(ctx.services.db.knex), ctx.services.audit, ctx.services.clock, () => 3600);
    await ctx.addUser('frank.garcia', PASSWORD);
    await ctx.addUser('fgarcia', PASSWORD);
  });
  afterEach(() => ctx.close());

  test("FROM's sessions end, its API tokens move to INTO, FROM is deleted, and the audit trail keeps both names", async () => {
    const fromSession = ctx.agent();
    expect((await submitLogin(fromSession, 'frank.garcia', PASSWORD)).status).toBe(200);
    const from = await ctx.services.accountService.requireByUsername('frank.garcia');
    const into = await ctx.services.accountService.requireByUsername('fgarcia');
    const { secret } = await tokens.issue(from, 'full', { clientIp: null, userAgent: null, channel: 'credentials' });

    const cli = io();
    const context: CliContext = { io: cli, load: {}, withServices };
    expect(await runCommand(['user', 'merge', 'frank.garcia', 'fgarcia'], context)).toBe(0);
    expect(cli.lines.out).toBe('merged frank.garcia into fgarcia: 1 sessions ended, 1 API tokens moved, 0 revoked; frank.garcia deleted\n');

    expect(await ctx.services.accounts.findByKey('frank.garcia')).toBeNull();
    expect(await tokens.authenticate(secret)).toMatchObject({ accountId: into.id, username: 'fgarcia' });
    const page = await fromSession.get('/cas/login');
    expect(page.text).toContain('name="password"');
    expect((await ctx.services.loginService.login({ username: 'fgarcia', password: PASSWORD }, { clientIp: null, userAgent: null, channel: 'test' })).status).toBe('success');

    const audit = async (username: string) => (await ctx.services.audit.query({ username, limit: 50 })).events;
    expect(await audit('frank.garcia')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event: 'login', outcome: 'success' }),
        expect.objectContaining({ event: 'account_merged', actor: 'cli', details: expect.objectContaining({ into: 'fgarcia', sessionsEnded: 1, tokensMoved: 1 }) }),
      ]),
    );
    expect(await audit('fgarcia')).toEqual(expect.arrayContaining([expect.objectContaining({ event: 'account_merged', details: expect.objectContaining({ from: 'frank.garcia' }) })]));
  });

  test('usage errors exit 2 with one line; unknown or identical accounts are refused clearly; nothing changes', async () => {
    for (const args of [['frank.garcia'], ['a', 'b', 'c'], ['frank.garcia', 'fgarcia', '--force']]) {
      const context: CliContext = { io: io(), load: {}, withServices };
      await expect(runCommand(['user', 'merge', ...args], context)).rejects.toBeInstanceOf(UsageError);
    }
    await expect(mergeAccounts(ctx.services, 'nobody', 'fgarcia', { name: 'cli' })).rejects.toThrow(/nobody/);
    await expect(mergeAccounts(ctx.services, 'FGARCIA', 'fgarcia', { name: 'cli' })).rejects.toThrow('"FGARCIA" and "fgarcia" are the same account.');
    expect(await ctx.services.accounts.findByKey('frank.garcia')).not.toBeNull();
  });

  test('the last enabled administrator cannot be merged away', async () => {
    const { accounts } = await ctx.services.accounts.list({ role: 'admin', enabled: true });
    for (const admin of accounts) await ctx.services.accounts.update(admin.id, { enabled: false }, Date.now());
    await ctx.addUser('boss', PASSWORD, { role: 'admin' });
    await expect(mergeAccounts(ctx.services, 'boss', 'fgarcia', { name: 'cli' })).rejects.toThrow('"boss" is the last enabled administrator and cannot be merged away.');
    expect(await ctx.services.accounts.findByKey('boss')).not.toBeNull();
  });
});
