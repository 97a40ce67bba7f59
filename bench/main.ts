import { type BenchOptions, type Figure } from './support';
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
  const figures: Figure[] = [];
  for (const [name, suite] of Object.entries(SUITES)) {
    if (typeof only === 'string' && only !== name) continue;
    // --db postgres runs only the PostgreSQL suite; without it that suite is skipped.
    if ((name === 'postgres') !== (db === 'postgres')) continue;
    options.log(`== ${name}`);
    const result = await suite(options);
    figures.push(...result);
    if (!json) for (const f of result) process.stdout.write(`${f.name.padEnd(48)} ${String(f.value).padStart(12)} ${f.unit}\n`);
  }
  if (json) process.stdout.write(`${JSON.stringify({ figures })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
