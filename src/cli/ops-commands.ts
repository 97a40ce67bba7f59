import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedConfig } from '../config/load';
import type { AuditRecord } from '../storage/audit-log';
import { NotFoundError } from '../shared/errors';
import { type Command, UsageError } from './command-table';
import { CLI_ACTOR, type CliContext } from './context';

const FOLLOW_POLL_MS = 1000;

function auditLine(e: AuditRecord): string {
  const fields = [new Date(e.at).toISOString(), e.event, e.outcome, e.username ?? '-', `actor=${e.actor ?? '-'}`, `ip=${e.clientIp ?? '-'}`];
  return `${fields.join('\t')}${e.details ? `\t${JSON.stringify(e.details)}` : ''}\n`;
}

/** The second-factor policy as `config check` prints it: who must use one, and where the key comes from (never the key). */
function mfaSummary(loaded: LoadedConfig, env: NodeJS.ProcessEnv) {
  const { require, issuer, secretKeyFile, extraKeyFiles } = loaded.config.mfa;
  const key = env.PORTCULLIS_MFA_KEY ? 'environment: PORTCULLIS_MFA_KEY' : (secretKeyFile ?? path.join(loaded.dataDir, 'mfa.key'));
  return { require, services: 'registered services may require it too: portcullis service list (mfa=required)', issuer, key, ...(extraKeyFiles.length > 0 ? { extraKeyFiles } : {}) };
}

/** start, migrate, config check: running the service. */
export const SERVER_COMMANDS: Command<CliContext>[] = [
  {
    name: 'start',
    summary: 'start the HTTPS service (creates and migrates the database when needed)',
    async run(_args, ctx) {
      const [{ loadConfig }, { startServer }] = await Promise.all([import('../config/load'), import('../server')]);
      // Signals are taken from the start: one that arrives while the server is still starting (the banner is already
      // out) stops it gracefully once it is up, instead of killing it with the lock file and pool left behind.
      let requested: string | null = null;
      let running: Awaited<ReturnType<typeof startServer>> | null = null;
      const shutdown = (signal: string) => {
        if (!running) return void (requested = signal);
        running.services.logger.info({ event: 'stopping', signal }, 'stopping');
        running.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      running = await startServer(loadConfig(ctx.load));
      if (requested !== null) shutdown(requested);
    },
  },
  {
    name: 'migrate',
    summary: 'apply database migrations (creates the database when needed)',
    async run(_args, ctx) {
      const [{ loadConfig }, { migrateToLatest, openDatabase }] = await Promise.all([import('../config/load'), import('../storage/db')]);
      const loaded = loadConfig(ctx.load);
      const db = openDatabase(loaded.config.database, loaded.dataDir, ctx.load.env);
      try {
        const applied = await migrateToLatest(db.knex);
        ctx.io.out(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      } finally {
        await db.knex.destroy();
      }
    },
  },
  {
    name: 'config check',
    summary: 'validate the config files; print the effective policy and each value\'s source',
    options: { all: { type: 'boolean', help: 'print every setting with its source (secrets masked)' } },
    async run({ flag }, ctx) {
      const { loadConfig } = await import('../config/load');
      const loaded = loadConfig(ctx.load);
      if (flag('all')) {
        const { configReport } = await import('./config-report');
        ctx.io.out(`config OK\n${configReport(loaded).join('\n')}\n`);
        return;
      }
      const { lockout, password, administrators, accounts } = loaded.config;
      const { breachedFilterSummary } = await import('./passwords');
      const breachedFilter = await breachedFilterSummary(loaded.dataDir, password.breachedFilterFile);
      ctx.io.out(`config OK (${loaded.files.length ? loaded.files.join(', ') : 'no files; defaults'})\n`);
      ctx.io.out(`${JSON.stringify({ lockout, password, administrators, accounts, mfa: mfaSummary(loaded, ctx.load.env ?? process.env), breachedFilter, sources: loaded.sources }, null, 2)}\n`);
    },
  },
];

/** token and audit: what the service has handed out and recorded. */
export const OPS_COMMANDS: Command<CliContext>[] = [
  {
    name: 'token list',
    summary: 'active API tokens (never their values), newest first',
    options: { user: { type: 'string', value: 'NAME', help: 'only this account\'s tokens' } },
    async run({ value }, ctx) {
      const { adminDeps } = await import('../admin-wiring');
      await ctx.withServices(async (s) => {
        const { tokens } = await adminDeps(s).tokens.list({ username: value('user'), limit: 10_000 });
        if (tokens.length === 0) ctx.io.out('no active tokens\n');
        for (const t of tokens) {
          ctx.io.out(`${t.id}\t${t.username}\tscope=${t.scope}\tcreated=${new Date(t.createdAt).toISOString()}\texpires=${new Date(t.expiresAt).toISOString()}\tip=${t.clientIp ?? '-'}\n`);
        }
      });
    },
  },
  {
    name: 'token revoke',
    args: 'ID',
    summary: 'revoke an API token (its id from token list)',
    async run({ positionals: [id] }, ctx) {
      const { adminDeps } = await import('../admin-wiring');
      await ctx.withServices(async (s) => {
        const tokens = adminDeps(s).tokens;
        const token = await tokens.find(id);
        if (!token || !(await tokens.revoke(token, 'revoked_by_administrator', CLI_ACTOR))) throw new NotFoundError(`no active token with id "${id}"`);
        ctx.io.out(`revoked token ${token.id} of ${token.username}\n`);
      });
    },
  },
  {
    name: 'audit tail',
    summary: 'the latest audit events, oldest first; --follow keeps printing new ones (Ctrl-C stops)',
    options: {
      lines: { type: 'string', short: 'n', value: 'N', help: 'how many recent events (default 20)' },
      follow: { type: 'boolean', short: 'f', help: 'keep printing events as they are written' },
      user: { type: 'string', value: 'NAME', help: 'only events about this username' },
      event: { type: 'string', value: 'TYPE', help: 'only this event type (login, account_locked, ...)' },
    },
    async run({ value, flag }, ctx) {
      const lines = value('lines') ?? '20';
      if (!/^\d{1,5}$/.test(lines)) throw new UsageError('--lines must be a whole number up to 99999');
      const filter = { username: value('user'), event: value('event') };
      await ctx.withServices(async (s) => {
        // The newest id first: what the recent list shows beyond it, following shows (once).
        let lastId = (await s.audit.query({ limit: 1 })).events[0]?.id ?? 0;
        const { events } = await s.audit.query({ ...filter, limit: Number(lines) });
        for (const e of events.reverse()) if (e.id <= lastId) ctx.io.out(auditLine(e));
        while (flag('follow')) {
          await sleep(FOLLOW_POLL_MS);
          const { events: fresh } = await s.audit.query({ ...filter, afterId: lastId, limit: 500 });
          for (const e of fresh) ctx.io.out(auditLine(e));
          lastId = fresh.at(-1)?.id ?? lastId;
        }
      });
    },
  },
];
