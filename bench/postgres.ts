import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import knexFactory from 'knex';
import { loadConfig } from '../src/config/load';
import { buildServicesAfterMigration } from '../src/server';
import { createLogger } from '../src/shared/logger';
import { type ProcessGroups, processWithChildren, processesNamed, startCpuSample } from './cpu-usage';
import {
  BenchClient,
  type BenchOptions,
  type BenchServer,
  type Figure,
  type Measurement,
  createBenchUsers,
  createSessions,
  measure,
  poolMeasurements,
  postLogin,
  preparedLoginClients,
  round,
  ssoCycle,
  startServer,
  tempDirs,
  testServerEnv,
} from './support';

/**
 * Password logins and single sign-on cycles per second against PostgreSQL,
 * with one `portcullis start` process and with two (same database, clients
 * spread round-robin over them, as behind a load balancer), measured in
 * alternating rounds (1, 2, 1, 2, …). For each phase it also samples the CPU
 * time of each instance, of the PostgreSQL server processes, of this load
 * generator and of the whole machine, in CPU seconds per second, to say
 * where the bottleneck is.
 *
 * Database: DATABASE_URL (its role needs CREATEDB), or else the local test
 * server from scripts/test-servers/up.sh (`postgres.url`, created through
 * `postgres.adminUrl`). Every run creates a fresh database and drops it.
 */

const SSO_CONCURRENCY = 64;
const USERS = 16;
const PASSWORD = 'Bench-Marking-Pass-7';
const ROUNDS = 4;
const SERVICE = 'https://app.example.org/sso';

interface PostgresTestEnv {
  url: string;
  adminUrl?: string;
  pidFile?: string;
}

interface BenchDatabase {
  url: string;
  /** PostgreSQL's server processes when they run on this machine (else none: their CPU is not sampled). */
  serverPids: () => number[];
  drop(): Promise<void>;
}

async function createBenchDatabase(options: BenchOptions): Promise<BenchDatabase> {
  const local = options.databaseUrl ? undefined : testServerEnv<PostgresTestEnv>('postgres', 'the PostgreSQL benchmark needs a database: set DATABASE_URL or start the local one');
  const appUrl = options.databaseUrl ?? local!.url;
  const adminUrl = local?.adminUrl ?? appUrl;
  const name = `portcullis_bench_${process.pid}_${Date.now().toString(36)}`;
  const owner = decodeURIComponent(new URL(appUrl).username);
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw('create database ?? owner ??', [name, owner]);
  } catch (error) {
    await admin.destroy();
    throw error;
  }
  const url = new URL(appUrl);
  url.pathname = `/${name}`;
  const pidFile = local?.pidFile;
  // The test server's postmaster and its children; otherwise any local `postgres` processes (none when the server is remote).
  const serverPids = pidFile && existsSync(pidFile) ? () => processWithChildren(Number(readFileSync(pidFile, 'utf8').split('\n')[0])) : () => processesNamed('postgres');
  return {
    url: url.toString(),
    serverPids,
    drop: async () => {
      try {
        await admin.raw('drop database if exists ?? with (force)', [name]);
      } finally {
        await admin.destroy();
      }
    },
  };
}

interface PhaseResult {
  throughput: Measurement;
  /** CPU seconds per second by process group (and `machine`), averaged over the rounds. */
  cpu: Record<string, number>;
}

/** Alternating rounds of the one-instance and two-instance variants of an operation, with a CPU sample over each measured part. */
async function compareInstanceCounts(
  options: BenchOptions,
  groups: ProcessGroups,
  concurrency: number,
  variants: { one: (worker: number) => Promise<void>; two: (worker: number) => Promise<void> },
): Promise<{ one: PhaseResult; two: PhaseResult }> {
  const seconds = options.seconds / ROUNDS;
  const rounds = { one: [] as { m: Measurement; cpu: Record<string, number> }[], two: [] as { m: Measurement; cpu: Record<string, number> }[] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const key of ['one', 'two'] as const) {
      let finishSample: (() => Record<string, number>) | undefined;
      const m = await measure(seconds, concurrency, variants[key], () => (finishSample = startCpuSample(groups)));
      rounds[key].push({ m, cpu: finishSample!() });
    }
  }
  const pool = (list: (typeof rounds)['one']): PhaseResult => {
    const cpu: Record<string, number> = {};
    for (const name of Object.keys(list[0].cpu)) cpu[name] = list.reduce((sum, r) => sum + r.cpu[name], 0) / list.length;
    return { throughput: poolMeasurements(list.map((r) => r.m)), cpu };
  };
  return { one: pool(rounds.one), two: pool(rounds.two) };
}

function phaseFigures(prefix: string, unit: string, result: { one: PhaseResult; two: PhaseResult }): Figure[] {
  const cores = os.cpus().length;
  const figures: Figure[] = [];
  for (const [label, phase] of [
    ['1_instance', result.one],
    ['2_instances', result.two],
  ] as const) {
    figures.push(
      { name: `${prefix}_per_second_${label}`, value: round(phase.throughput.perSecond), unit },
      { name: `${prefix}_p50_latency_${label}`, value: round(phase.throughput.p50), unit: 'ms' },
      { name: `${prefix}_p99_latency_${label}`, value: round(phase.throughput.p99), unit: 'ms' },
    );
    for (const [group, used] of Object.entries(phase.cpu)) {
      figures.push({ name: `${prefix}_cpu_${group}_${label}`, value: round(used), unit: group === 'machine' ? `CPU s/s (of ${cores} cores)` : 'CPU s/s' });
    }
  }
  figures.push({ name: `${prefix}_scaling_2_vs_1`, value: round(result.two.throughput.perSecond / result.one.throughput.perSecond, 3), unit: 'ratio' });
  return figures;
}

function logPhase(options: BenchOptions, what: string, result: { one: PhaseResult; two: PhaseResult }): void {
  for (const [label, phase] of [
    ['1 instance ', result.one],
    ['2 instances', result.two],
  ] as const) {
    const cpu = Object.entries(phase.cpu)
      .map(([group, used]) => `${group} ${round(used)}`)
      .join(', ');
    options.log(`${what}, ${label}: ${round(phase.throughput.perSecond)}/s; CPU s/s: ${cpu}`);
  }
}

export async function benchPostgres(options: BenchOptions): Promise<Figure[]> {
  const database = await createBenchDatabase(options);
  const servers: BenchServer[] = [];
  let agent: ReturnType<typeof BenchClient.agent> | undefined;
  try {
    const dirs = tempDirs();
    const serverEnv = { DATABASE_URL: database.url };
    const loaded = loadConfig({ ...dirs, env: { PORTCULLIS_DATA_DIR: dirs.dataDir, PORTCULLIS_CONFIG_DIR: dirs.configDir, ...serverEnv } });
    const setup = await buildServicesAfterMigration(loaded, createLogger('warn'));
    await createBenchUsers(setup, USERS, PASSWORD);
    const ssoAccount = await setup.accountService.create({ username: 'sso-bench', password: PASSWORD }, { name: 'bench' });
    await setup.serviceRegistry.create({ name: 'bench-app', serviceUrl: SERVICE });
    // One session per SSO client, as if each had logged in once (the cost measured is single sign-on, not the password hash).
    const tgcs = await createSessions(setup, ssoAccount, SSO_CONCURRENCY);
    await setup.close();

    // Both instances share the data directory (so one TLS certificate: the second reuses the first's) and the database.
    servers.push(await startServer(dirs, serverEnv));
    servers.push(await startServer(dirs, serverEnv));
    const [a, b] = servers;
    const groups: ProcessGroups = {
      portcullis_a: () => [a.process.pid!],
      portcullis_b: () => [b.process.pid!],
      postgres: database.serverPids,
      bench_client: () => [process.pid],
    };
    agent = BenchClient.agent(a.ca, Math.max(SSO_CONCURRENCY, options.concurrency));

    const oneInstanceLogins = await preparedLoginClients(agent, [a.url], options.concurrency, USERS, PASSWORD);
    const twoInstanceLogins = await preparedLoginClients(agent, [a.url, b.url], options.concurrency, USERS, PASSWORD);
    options.log(`PostgreSQL: password logins (POST /cas/login, ${options.concurrency} keep-alive clients, ${USERS} users), 1 vs 2 instances, alternating rounds, ${options.seconds}s each`);
    const logins = await compareInstanceCounts(options, groups, options.concurrency, {
      one: (worker) => postLogin(oneInstanceLogins[worker]),
      two: (worker) => postLogin(twoInstanceLogins[worker]),
    });
    logPhase(options, 'password logins', logins);

    // Each client logs in at "its" instance; validations rotate over the instances, so with two about half the STs are validated by the other one.
    let validations = 0;
    const ssoOver = (bases: string[]) => (worker: number) => ssoCycle(agent!, bases[worker % bases.length], bases[validations++ % bases.length], SERVICE, tgcs[worker]);
    options.log(`PostgreSQL: SSO cycles (login with TGC -> ST -> /p3/serviceValidate, ${SSO_CONCURRENCY} keep-alive clients), 1 vs 2 instances, alternating rounds, ${options.seconds}s each`);
    const sso = await compareInstanceCounts(options, groups, SSO_CONCURRENCY, { one: ssoOver([a.url]), two: ssoOver([a.url, b.url]) });
    logPhase(options, 'SSO cycles', sso);

    return [...phaseFigures('pg_password_logins', 'logins/s', logins), ...phaseFigures('pg_sso_cycles', 'cycles/s', sso)];
  } finally {
    agent?.destroy();
    await Promise.all(servers.map((server) => server.stop()));
    await database.drop();
  }
}
