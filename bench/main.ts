import { type BenchOptions, type Figure, testServerEnvAvailable } from './support';
import { benchPasswordLogin } from './password-login';
import { benchSso } from './sso';
import { benchLdap } from './ldap';
import { benchPostgres } from './postgres';
import { benchPasswordPolicy } from './password-policy';
import { benchBreached } from './breached';
import { benchMfa } from './mfa';

/**
 * `npm run bench [-- --json] [--db postgres] [--seconds N] [--concurrency N] [--only NAME]`
 * Every figure is measured against a baseline taken in the same run.
 */
const SUITES: Record<string, (options: BenchOptions) => Promise<Figure[]>> = {
  'password-login': benchPasswordLogin,
  sso: benchSso,
  ldap: benchLdap,
  postgres: benchPostgres,
  'password-policy': benchPasswordPolicy,
  breached: benchBreached,
  mfa: benchMfa,
};

/**
 * Suites that need a test server (scripts/test-servers/up.sh). On a fresh machine without them the suite is
 * skipped up front with the one command that enables it, and every other suite still runs.
 */
const NEEDS: Record<string, { server: string; what: string; unlessEnv?: string }> = {
  ldap: { server: 'ldap', what: 'the local OpenLDAP slapd' },
  postgres: { server: 'postgres', what: 'a PostgreSQL database', unlessEnv: 'DATABASE_URL' },
};

function skipReason(name: string): string | null {
  const need = NEEDS[name];
  if (!need || (need.unlessEnv && process.env[need.unlessEnv]) || testServerEnvAvailable(need.server)) return null;
  return `${name}: skipped, it needs ${need.what}; start the test servers once with \`sudo bash scripts/test-servers/up.sh\`${need.unlessEnv ? ` (or set ${need.unlessEnv})` : ''}, then run \`npm run bench -- --only ${name}${name === 'postgres' ? ' --db postgres' : ''}\``;
}

function parse(argv: string[]) {
  const args = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      args.set(a.slice(2), next);
      i++;
    } else args.set(a.slice(2), true);
  }
  return args;
}

async function main() {
  const args = parse(process.argv.slice(2));
  const json = args.has('json');
  const db = args.get('db') === 'postgres' ? 'postgres' : 'sqlite';
  const options: BenchOptions = {
    seconds: Number(args.get('seconds') ?? 10),
    concurrency: Number(args.get('concurrency') ?? 8),
    db,
    databaseUrl: process.env.DATABASE_URL,
    log: (line) => {
      if (!json) process.stderr.write(`# ${line}\n`);
    },
  };
  const only = args.get('only');
  if (typeof only === 'string' && !(only in SUITES)) throw new Error(`unknown suite "${only}"; suites: ${Object.keys(SUITES).join(', ')}`);
  const figures: Figure[] = [];
  const selected = Object.entries(SUITES).filter(([name]) => (typeof only !== 'string' || only === name) && (name === 'postgres') === (db === 'postgres'));
  const skipped = selected.map(([name]) => skipReason(name)).filter((reason): reason is string => reason !== null);
  for (const reason of skipped) process.stderr.write(`# ${reason}\n`);
  for (const [name, suite] of selected) {
    // --db postgres runs only the PostgreSQL suite; without it that suite is skipped.
    if (skipReason(name) !== null) continue;
    options.log(`== ${name}`);
    const result = await suite(options);
    figures.push(...result);
    if (!json) for (const f of result) process.stdout.write(`${f.name.padEnd(48)} ${String(f.value).padStart(12)} ${f.unit}\n`);
  }
  if (json) process.stdout.write(`${JSON.stringify({ figures, skipped })}\n`);
  // Said again at the end, where a reader of a long run looks.
  for (const reason of skipped) process.stderr.write(`# ${reason}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
