#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { loadConfig } from '../config/load';
import { configReport } from './config-report';
import { ConfigError, ConflictError, InputError, NotFoundError, PolicyError } from '../shared/errors';
import { buildServicesAfterMigration, startServer } from '../server';
import { migrateToLatest, openDatabase } from '../storage/db';
import { createLogger } from '../shared/logger';
import { type Services } from '../services';
import { ROLES, type Role } from '../storage/accounts-repo';
import { SERVICE_USAGE, serviceCommand } from './service-commands';
import { ADMIN_USAGE, adminCommand } from './admin-commands';

const USAGE = `Usage: portcullis <command>
  start                                   start the HTTPS service
  migrate                                 apply database migrations
  config check [--all]                    validate config files and print the effective policy (--all: every setting, its source, secrets masked)
  user add NAME [--role admin|user] [--password-stdin]
  user passwd NAME --password-stdin [--must-change]
  user unlock NAME
  user enable NAME | user disable NAME
  user list
${SERVICE_USAGE}
${ADMIN_USAGE}`;

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(argv: string[], valueFlags: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2);
    if (valueFlags.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else flags.set(name, true);
  }
  return { positional, flags };
}

function readStdinPassword(): string {
  const text = readFileSync(0, 'utf8');
  const password = text.replace(/\r?\n$/, '');
  if (password.length === 0) throw new UsageError('no password on standard input');
  return password;
}

async function withServices<T>(work: (services: Services) => Promise<T>): Promise<T> {
  const loaded = loadConfig();
  const services = await buildServicesAfterMigration(loaded, createLogger('warn'));
  try {
    return await work(services);
  } finally {
    await services.close();
  }
}

const CLI_ACTOR = { name: 'cli' };

async function userCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { positional, flags } = parseArgs(rest, ['role']);
  const name = positional[0];
  if (sub === 'list') {
    await withServices(async (s) => {
      const { accounts } = await s.accounts.list({ limit: 10_000 });
      for (const a of accounts) {
        const lock = await s.lockouts.get(a.usernameKey);
        const locked = lock.lockedUntil !== null && lock.lockedUntil > s.clock.now() ? ` locked-until=${new Date(lock.lockedUntil).toISOString()}` : '';
        process.stdout.write(`${a.username}\trole=${a.role}\tsource=${a.source}\t${a.enabled ? 'enabled' : 'disabled'}${a.mustChangePassword ? '\tmust-change-password' : ''}${locked}\n`);
      }
    });
    return;
  }
  if (!name) throw new UsageError(`user ${sub ?? ''}: NAME is required`);
  if (sub === 'add') {
    const role = (flags.get('role') ?? 'user') as Role;
    if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    const password = flags.has('password-stdin') ? readStdinPassword() : undefined;
    await withServices(async (s) => {
      const account = await s.accountService.create({ username: name, password, role, mustChangePassword: flags.has('must-change') }, CLI_ACTOR);
      process.stdout.write(`created ${account.username} (role ${account.role})${password ? '' : ' without a password; set one with: portcullis user passwd'}\n`);
    });
  } else if (sub === 'passwd') {
    if (!flags.has('password-stdin')) throw new UsageError('user passwd needs --password-stdin');
    const password = readStdinPassword();
    await withServices(async (s) => {
      const account = await s.accountService.requireByUsername(name);
      await s.accountService.setPassword(account, password, { mustChange: flags.has('must-change'), actor: CLI_ACTOR });
      process.stdout.write(`password changed for ${account.username}\n`);
    });
  } else if (sub === 'enable' || sub === 'disable') {
    await withServices(async (s) => {
      const account = await s.accountService.requireByUsername(name);
      await s.accountService.update(account.id, { enabled: sub === 'enable' }, CLI_ACTOR);
      process.stdout.write(`${sub}d ${account.username}\n`);
    });
  } else if (sub === 'unlock') {
    await withServices(async (s) => {
      await s.accountService.unlock(name, CLI_ACTOR);
      process.stdout.write(`unlocked ${name}\n`);
    });
  } else throw new UsageError(`unknown user command "${sub}"`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start': {
      const running = await startServer(loadConfig());
      const shutdown = (signal: string) => {
        running.services.logger.info({ event: 'stopping', signal }, 'stopping');
        running.stop().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      return;
    }
    case 'migrate': {
      const loaded = loadConfig();
      const db = openDatabase(loaded.config.database, loaded.dataDir);
      try {
        const applied = await migrateToLatest(db.knex);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      } finally {
        await db.knex.destroy();
      }
      return;
    }
    case 'config': {
      if (rest[0] !== 'check' || (rest[1] !== undefined && rest[1] !== '--all')) throw new UsageError('usage: portcullis config check [--all]');
      const loaded = loadConfig();
      if (rest[1] === '--all') {
        process.stdout.write(`config OK\n${configReport(loaded).join('\n')}\n`);
        return;
      }
      const { lockout, password, administrators, accounts } = loaded.config;
      process.stdout.write(`config OK (${loaded.files.length ? loaded.files.join(', ') : 'no files; defaults'})\n`);
      process.stdout.write(`${JSON.stringify({ lockout, password, administrators, accounts, sources: loaded.sources }, null, 2)}\n`);
      return;
    }
    case 'user':
      return userCommand(rest);
    case 'service':
      return serviceCommand(rest, withServices);
    case 'import-legacy':
    case 'backup':
    case 'restore':
      process.exitCode = await adminCommand(command, rest);
      return;
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  }
}

function oneLine(error: unknown): string {
  if (error instanceof ConfigError) return `configuration error:\n  ${error.problems.join('\n  ')}`;
  if (error instanceof UsageError || error instanceof InputError || error instanceof NotFoundError || error instanceof ConflictError) return error.message;
  if (error instanceof PolicyError) return error.message;
  const e = error as { code?: string; message?: string };
  const message = e?.message ?? String(error);
  // Node's fs errors already start with their code ("ENOENT: no such file…"): do not say it twice.
  return `error: ${e?.code && !message.startsWith(`${e.code}:`) ? `${e.code}: ` : ''}${message}`;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`portcullis: ${oneLine(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
