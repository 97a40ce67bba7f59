import { type ChildProcess, spawn } from 'node:child_process';
import https from 'node:https';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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

export function tempDirs(): { dataDir: string; configDir: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-'));
  const configDir = path.join(root, 'config');
  mkdirSync(configDir);
  return { dataDir: path.join(root, 'data'), configDir };
}

/** Starts `portcullis start` as a child process (production build, info logs off) and waits until it listens. */
export async function startServer(dirs: { dataDir: string; configDir: string }, env: NodeJS.ProcessEnv = {}): Promise<BenchServer> {
  const child = spawn(process.execPath, [CLI, 'start'], {
    env: { PATH: process.env.PATH, NODE_ENV: 'production', PORTCULLIS_PORT: '0', PORTCULLIS_HOST: '127.0.0.1', PORTCULLIS_LOG_LEVEL: 'warn', PORTCULLIS_DATA_DIR: dirs.dataDir, PORTCULLIS_CONFIG_DIR: dirs.configDir, ...env },
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

/**
 * Runs `operation` from `concurrency` workers for `seconds`, after a warm-up
 * of a quarter of that. Returns completed operations per second and latency percentiles (ms).
 */
export async function measure(
  seconds: number,
  concurrency: number,
  operation: (worker: number) => Promise<void>,
): Promise<{ perSecond: number; count: number; p50: number; p99: number }> {
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
 * pooled throughput of each and the target's latency percentiles.
 */
export async function compareAlternating(
  options: BenchOptions,
  rounds: number,
  baseline: (worker: number) => Promise<void>,
  target: (worker: number) => Promise<void>,
  concurrency = options.concurrency,
): Promise<{ baseline: Awaited<ReturnType<typeof measure>>; target: Awaited<ReturnType<typeof measure>> }> {
  const seconds = options.seconds / rounds;
  const b: Awaited<ReturnType<typeof measure>>[] = [];
  const t: Awaited<ReturnType<typeof measure>>[] = [];
  for (let i = 0; i < rounds; i++) {
    b.push(await measure(seconds, concurrency, baseline));
    t.push(await measure(seconds, concurrency, target));
  }
  const pool = (list: typeof b) => ({
    perSecond: list.reduce((sum, m) => sum + m.perSecond, 0) / list.length,
    count: list.reduce((sum, m) => sum + m.count, 0),
    p50: list.map((m) => m.p50).sort((x, y) => x - y)[Math.floor(list.length / 2)],
    p99: Math.max(...list.map((m) => m.p99)),
  });
  return { baseline: pool(b), target: pool(t) };
}
