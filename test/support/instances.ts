import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { CLI, ServerProcess, requireBuild } from './process';
import { type TestDatabase, createPostgresTestDatabase } from './pg-test-databases';

/**
 * Several real Portcullis processes (`node dist/src/cli/main.js start`, the
 * build scripts/test.sh makes) on ephemeral ports, sharing one fresh
 * PostgreSQL database and one configuration directory, as behind a load
 * balancer. Separate processes rather than several Services objects in the
 * test process: nothing (module state, caches, timers, the event loop) can
 * then be shared by accident, and startup, migrations, file watching and
 * signals run exactly as in production.
 */

export interface Instance {
  name: string;
  process: ServerProcess;
  /** https://127.0.0.1:PORT */
  url: string;
  /** http://127.0.0.1:PORT of the ops listener (health, metrics). */
  opsUrl: string;
  /** The instance's self-signed certificate, to trust in clients. */
  ca: string;
  agent(): ReturnType<typeof request.agent>;
  /** Parsed JSON log lines written so far. */
  logs(): Record<string, unknown>[];
}

export interface Cluster {
  database: TestDatabase;
  configDir: string;
  instances: Instance[];
  /** Environment of the cluster's processes (for CLI commands against the same database and config). */
  env: NodeJS.ProcessEnv;
  /** Runs a CLI command against the cluster's database (asynchronously, so several can race). */
  cli(args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }>;
  /** Starts one more instance. */
  start(name: string): Promise<Instance>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** Files for the shared configuration directory (private.config, portcullis.json). */
  files?: Record<string, string>;
}

export async function startCluster(count: number, options: ClusterOptions = {}): Promise<Cluster> {
  requireBuild();
  const database = await createPostgresTestDatabase();
  const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-cluster-'));
  const configDir = path.join(root, 'config');
  mkdirSync(configDir);
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(path.join(configDir, name), text);
  const env: NodeJS.ProcessEnv = {
    HOME: root,
    DATABASE_URL: database.url,
    PORTCULLIS_CONFIG_DIR: configDir,
    PORTCULLIS_HOST: '127.0.0.1',
    PORTCULLIS_PORT: '0',
    PORTCULLIS_OPS_HOST: '127.0.0.1',
    PORTCULLIS_OPS_PORT: '0',
    PORTCULLIS_LOG_LEVEL: 'info',
  };
  const instances: Instance[] = [];

  async function start(name: string): Promise<Instance> {
    const dataDir = path.join(root, `data-${name}`);
    const child = new ServerProcess({ ...env, PORTCULLIS_DATA_DIR: dataDir });
    const url = (await child.waitFor(/Portcullis listening on (https:\/\/\S+?)\/cas\/login/))[1].replace('localhost', '127.0.0.1');
    const opsUrl = (await child.waitFor(/health and metrics: (http:\/\/\S+?)\/health\/ready/))[1];
    const ca = readFileSync(path.join(dataDir, 'tls', 'self-signed-cert.pem'), 'utf8');
    const instance: Instance = {
      name,
      process: child,
      url,
      opsUrl,
      ca,
      agent: () => request.agent(url).ca(ca),
      logs: () => child.output.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    };
    instances.push(instance);
    return instance;
  }

  try {
    // All at once, as an orchestrator would: they race for the migrations too.
    await Promise.all(Array.from({ length: count }, (_, i) => start(`i${i}`)));
  } catch (error) {
    await Promise.allSettled(instances.map((i) => i.process.stop('SIGKILL')));
    await database.drop();
    throw error;
  }
  instances.sort((a, b) => a.name.localeCompare(b.name));

  return {
    database,
    configDir,
    instances,
    env,
    start,
    cli: (args, input) =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env, PORTCULLIS_DATA_DIR: path.join(root, 'data-cli') } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
        child.on('exit', (status) => resolve({ status, stdout, stderr }));
        child.stdin.end(input ?? '');
      }),
    async close() {
      const codes = await Promise.all(instances.map((i) => i.process.stop('SIGTERM')));
      await database.drop();
      rmSync(root, { recursive: true, force: true });
      const unclean = codes.map((code, i) => [instances[i].name, code] as const).filter(([, code]) => code !== 0);
      if (unclean.length > 0) throw new Error(`instances did not stop cleanly on SIGTERM: ${JSON.stringify(unclean)}`);
    },
  };
}

/** Polls until `check` passes (or throws with `what` after `timeoutMs`). */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
