import type { Role } from '../accounts/account';
import { type Command, UsageError } from './command-table';
import { CLI_ACTOR, type CliContext, readPassword } from './context';

const PASSWORD_OPTIONS = {
  'password-stdin': { type: 'boolean', help: 'read the password from standard input (scripts); without it a terminal is asked twice, hidden' },
  'must-change': { type: 'boolean', help: 'the password must be changed at the next sign-in' },
} as const;

/** `portcullis user …`: internal accounts, through the same AccountService as the API. */
export const USER_COMMANDS: Command<CliContext>[] = [
  {
    name: 'user add',
    args: 'NAME',
    summary: 'create an internal account',
    options: { role: { type: 'string', value: 'admin|user', help: 'role (default user)' }, ...PASSWORD_OPTIONS },
    async run({ positionals: [name], value, flag }, ctx) {
      const { ROLES } = await import('../accounts/account');
      const role = (value('role') ?? 'user') as Role;
      if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      const password = await readPassword(ctx, flag('password-stdin'));
      await ctx.withServices(async (s) => {
        const account = await s.accountService.create({ username: name, password, role, mustChangePassword: flag('must-change') }, CLI_ACTOR);
        ctx.io.out(`created ${account.username} (role ${account.role})${password ? '' : ' without a password; set one with: portcullis user passwd'}\n`);
      });
    },
  },
  {
    name: 'user passwd',
    args: 'NAME',
    summary: 'set a password (policy and history apply)',
    options: PASSWORD_OPTIONS,
    async run({ positionals: [name], flag }, ctx) {
      const password = await readPassword(ctx, flag('password-stdin'));
      if (password === undefined) throw new UsageError('user passwd needs a password: --password-stdin, or answer the prompt on a terminal');
      await ctx.withServices(async (s) => {
        const account = await s.accountService.requireByUsername(name);
        await s.accountService.setPassword(account, password, { mustChange: flag('must-change'), actor: CLI_ACTOR });
        ctx.io.out(`password changed for ${account.username}\n`);
      });
    },
  },
  {
    name: 'user unlock',
    args: 'NAME',
    summary: 'clear the failed sign-in count and any lock',
    async run({ positionals: [name] }, ctx) {
      await ctx.withServices(async (s) => {
        await s.accountService.unlock(name, CLI_ACTOR);
        ctx.io.out(`unlocked ${name}\n`);
      });
    },
  },
  ...(['enable', 'disable'] as const).map(
    (verb): Command<CliContext> => ({
      name: `user ${verb}`,
      args: 'NAME',
      summary: verb === 'enable' ? 'enable an account' : 'disable an account (not the last enabled administrator)',
      async run({ positionals: [name] }, ctx) {
        await ctx.withServices(async (s) => {
          const account = await s.accountService.requireByUsername(name);
          await s.accountService.update(account.id, { enabled: verb === 'enable' }, CLI_ACTOR);
          ctx.io.out(`${verb}d ${account.username}\n`);
        });
      },
    }),
  ),
  {
    name: 'user list',
    summary: 'list accounts with role, source, state and lockout (tab-separated)',
    async run(_args, ctx) {
      await ctx.withServices(async (s) => {
        const { accounts } = await s.accounts.list({ limit: 10_000 });
        for (const a of accounts) {
          const lock = await s.regulator.view(a.usernameKey);
          const locked = lock.locked && lock.lockedUntil !== null ? ` locked-until=${new Date(lock.lockedUntil).toISOString()}` : '';
          ctx.io.out(`${a.username}\trole=${a.role}\tsource=${a.source}\t${a.enabled ? 'enabled' : 'disabled'}${a.mustChangePassword ? '\tmust-change-password' : ''}${locked}\n`);
        }
      });
    },
  },
  {
    name: 'user audit-names',
    summary: 'list account names the new-name rules would refuse (read-only; always exits 0)',
    async run(_args, ctx) {
      const { auditNames } = await import('./audit-names');
      await ctx.withServices((s) => auditNames(s.accounts, (text) => ctx.io.out(text)));
    },
  },
  {
    name: 'user merge',
    args: 'FROM INTO',
    summary: "move FROM's API tokens to INTO, end FROM's sessions, delete FROM",
    details: 'Folds a duplicate account into the canonical one (e.g. a Windows UPN account into sAMAccountName@REALM); audited under both names.',
    async run({ positionals: [from, into] }, ctx) {
      const { mergeAccounts } = await import('./user-merge');
      const report = await ctx.withServices((s) => mergeAccounts(s, from, into, CLI_ACTOR));
      ctx.io.out(`merged ${report.from} into ${report.into}: ${report.sessionsEnded} sessions ended, ${report.tokensMoved} API tokens moved, ${report.tokensRevoked} revoked; ${report.from} deleted\n`);
    },
  },
  {
    name: 'user show',
    args: 'NAME',
    summary: 'one account: role, state, password dates, lockout (as GET /api/v1/accounts/{id})',
    async run({ positionals: [name] }, ctx) {
      const { accountViewOf } = await import('../admin/handlers/accounts');
      await ctx.withServices(async (s) => {
        const { lockout, ...fields } = await accountViewOf(s, await s.accountService.requireByUsername(name));
        for (const [key, value] of Object.entries({ ...fields, ...lockout })) ctx.io.out(`${key}: ${value ?? '-'}\n`);
      });
    },
  },
  {
    name: 'user delete',
    args: 'NAME',
    summary: 'delete an account and its tokens (not the last enabled administrator)',
    async run({ positionals: [name] }, ctx) {
      await ctx.withServices(async (s) => {
        const account = await s.accountService.requireByUsername(name);
        await s.accountService.delete(account.id, CLI_ACTOR);
        ctx.io.out(`deleted ${account.username}\n`);
      });
    },
  },
];
