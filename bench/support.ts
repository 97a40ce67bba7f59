import { type ChildProcess, spawn } from 'node:child_process';
import https from 'node:https';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Services } from '../src/services';

/** One measured figure, as printed by `npm run bench -- --json`. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
}

export interface BenchOptions {
  /** Seconds per measured phase. */
  seconds: number;
  /** Concurrent clients for throughput phases. */
  concurrency: number;
  db: 'sqlite' | 'postgres';
  /** PostgreSQL URL when db = postgres. */
  databaseUrl?: string;
  log: (line: string) => void;
}

export const REPO = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');

export interface BenchServer {
  url: string;
  ca: string;
  dataDir: string;
  configDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

function testEnvFile(): string {
  return process.env.PORTCULLIS_TEST_ENV_JSON ?? path.join(process.env.PORTCULLIS_TEST_ENV_DIR ?? path.join(REPO, '.test-env'), 'env.json');
}

/** Whether scripts/test-servers/up.sh has described this server (the suites that need it can run). */
export function testServerEnvAvailable(server: string): boolean {
  const file = testEnvFile();
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)[server] !== undefined;
  } catch {
    return false;
  }
}

/** Reads one server's section of the env.json written by scripts/test-servers/up.sh. */
export function testServerEnv<T>(server: string, purpose: string): T {
  const file = testEnvFile();
  if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/test-servers/up.sh first (${purpose})`);
  return (JSON.parse(readFileSync(file, 'utf8')) as Record<string, T>)[server];
}

export function tempDirs(): { dataDir: string; configDir: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-'));
  const configDir = path.join(root, 'config');
  mkdirSync(configDir);
  return { dataDir: path.join(root, 'data'), configDir };
}

/** Starts `portcullis start` as a child process (production build, info logs off, no per-client connection cap: every bench client is 127.0.0.1) and waits until it listens. */
export async function startServer(dirs: { dataDir: string; configDir: string }, env: NodeJS.ProcessEnv = {}): Promise<BenchServer> {
  const child = spawn(process.execPath, [CLI, 'start'], {
    env: { PATH: process.env.PATH, NODE_ENV: 'production', PORTCULLIS_PORT: '0', PORTCULLIS_HOST: '127.0.0.1', PORTCULLIS_LOG_LEVEL: 'warn', PORTCULLIS_MAX_CONNECTIONS_PER_CLIENT: '0', PORTCULLIS_DATA_DIR: dirs.dataDir, PORTCULLIS_CONFIG_DIR: dirs.configDir, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (https:\/\/[^/\s]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
  child.stdout!.resume();
  const ca = readFileSync(path.join(dirs.dataDir, 'tls', 'self-signed-cert.pem'), 'utf8');
  return {
    url,
    ca,
    ...dirs,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A keep-alive HTTPS client for one simulated user (its own cookie jar). */
export class BenchClient {
  private readonly cookies = new Map<string, string>();
  constructor(
    private readonly base: string,
    private readonly agent: https.Agent,
  ) {}

  static agent(ca: string, maxSockets: number): https.Agent {
    return new https.Agent({ keepAlive: true, maxSockets, ca });
  }

  request(method: 'GET' | 'POST', pathAndQuery: string, form?: Record<string, string>): Promise<HttpResult> {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${this.base}${pathAndQuery}`,
        {
          method,
          agent: this.agent,
          headers: {
            ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
            ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            for (const cookie of res.headers['set-cookie'] ?? []) {
              const [pair] = cookie.split(';');
              const eq = pair.indexOf('=');
              this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

export interface Measurement {
  perSecond: number;
  count: number;
  p50: number;
  p99: number;
}

/** Pools rounds of one measurement: mean throughput, median p50, worst p99. */
export function poolMeasurements(list: Measurement[]): Measurement {
  return {
    perSecond: list.reduce((sum, m) => sum + m.perSecond, 0) / list.length,
    count: list.reduce((sum, m) => sum + m.count, 0),
    p50: list.map((m) => m.p50).sort((x, y) => x - y)[Math.floor(list.length / 2)],
    p99: Math.max(...list.map((m) => m.p99)),
  };
}

/**
 * Runs `operation` from `concurrency` workers for `seconds`, after a warm-up
 * of a quarter of that. Returns completed operations per second and latency percentiles (ms).
 */
export async function measure(
  seconds: number,
  concurrency: number,
  operation: (worker: number) => Promise<void>,
  /** Called when the warm-up is over and the measured part begins. */
  onMeasuring?: () => void,
): Promise<Measurement> {
  const run = async (durationMs: number, record: boolean) => {
    const latencies: number[] = [];
    const end = performance.now() + durationMs;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          await operation(worker);
          if (record) latencies.push(performance.now() - t0);
        }
      }),
    );
    return latencies;
  };
  await run((seconds * 1000) / 4, false);
  onMeasuring?.();
  const started = performance.now();
  const latencies = await run(seconds * 1000, true);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return { perSecond: latencies.length / elapsed, count: latencies.length, p50: pct(50), p99: pct(99) };
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Measures a target and its baseline in alternating rounds (B, T, B, T, …) so
 * that background load drifting during the run hits both alike. Returns the
 * pooled throughput of each and the target's latency percentiles. One round
 * of each runs first and is discarded: a fresh server process is still
 * compiling its hot paths and its clients still shaking hands (in bench/sso.ts
 * the first 2.5 s of a new server had p99 45 ms, the following ones 13–19).
 */
export async function compareAlternating(
  options: BenchOptions,
  rounds: number,
  baseline: (worker: number) => Promise<void>,
  target: (worker: number) => Promise<void>,
  concurrency = options.concurrency,
): Promise<{ baseline: Measurement; target: Measurement }> {
  const seconds = options.seconds / rounds;
  await measure(seconds, concurrency, baseline);
  await measure(seconds, concurrency, target);
  const b: Measurement[] = [];
  const t: Measurement[] = [];
  for (let i = 0; i < rounds; i++) {
    b.push(await measure(seconds, concurrency, baseline));
    t.push(await measure(seconds, concurrency, target));
  }
  return { baseline: poolMeasurements(b), target: poolMeasurements(t) };
}

export interface Reply {
  status: number;
  location?: string;
  body: string;
}

/** A bare GET on a shared keep-alive agent (no cookie jar: callers pass what they need). */
export function get(agent: https.Agent, url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString('utf8') }));
      })
      .on('error', reject);
  });
}

/** One session (TGT) per client for `username`, as if each had logged in once; returns the TGC values. */
export async function createSessions(services: Services, account: { id: number; username: string }, count: number): Promise<string[]> {
  const tgcs: string[] = [];
  for (let i = 0; i < count; i++) {
    tgcs.push(await services.sessions.create(account.username, account.id, { authenticatedAt: Date.now(), backend: 'internal', attributes: {} }));
  }
  return tgcs;
}

/**
 * One single sign-on cycle: `GET /cas/login?service=` with a TGC (302/303 with
 * a fresh ST) at `loginBase`, then `GET /cas/p3/serviceValidate` at `validateBase`.
 */
export async function ssoCycle(agent: https.Agent, loginBase: string, validateBase: string, service: string, tgc: string): Promise<void> {
  const login = await get(agent, `${loginBase}/cas/login?${new URLSearchParams({ service })}`, { cookie: `TGC=${tgc}` });
  const ticket = login.location ? new URL(login.location).searchParams.get('ticket') : null;
  if ((login.status !== 302 && login.status !== 303) || !ticket) throw new Error(`SSO login answered ${login.status} without a ticket`);
  const validation = await get(agent, `${validateBase}/cas/p3/serviceValidate?${new URLSearchParams({ service, ticket })}`);
  if (!validation.body.includes('<cas:authenticationSuccess>')) throw new Error(`validation failed: ${validation.body.slice(0, 200)}`);
}

/** Creates `count` accounts `bench0`… with one password. */
export async function createBenchUsers(services: Services, count: number, password: string): Promise<void> {
  for (let i = 0; i < count; i++) await services.accountService.create({ username: `bench${i}`, password }, { name: 'bench' });
}

/**
 * `count` keep-alive login clients spread round-robin over `bases`, each with
 * a pre-fetched execution token and a fixed user (`bench{i % users}`), so
 * that every POST /cas/login is a real password check and nothing else.
 */
export async function preparedLoginClients(
  agent: https.Agent,
  bases: string[],
  count: number,
  users: number,
  password: string,
): Promise<{ client: BenchClient; form: Record<string, string> }[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const client = new BenchClient(bases[i % bases.length], agent);
      const page = await client.request('GET', '/cas/login');
      const execution = /name="execution" value="([^"]+)"/.exec(page.body)?.[1];
      if (!execution) throw new Error('no execution token on the login page');
      return { client, form: { username: `bench${i % users}`, password, execution } };
    }),
  );
}

/** POST /cas/login with a prepared form; anything but 200 is a failure. */
export async function postLogin(prepared: { client: BenchClient; form: Record<string, string> }): Promise<void> {
  const res = await prepared.client.request('POST', '/cas/login', prepared.form);
  if (res.status !== 200) throw new Error(`login answered ${res.status}`);
}
