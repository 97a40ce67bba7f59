/**
 * A directory login is bounded as a whole (issue 15 part 4): black-hole
 * directories (one that accepts TCP and never answers, one that never
 * accepts), concurrent logins on a small pool, and each login's duration
 * compared with the configured `loginDeadlineSeconds` as a ratio. Then the
 * circuit breaker: while a directory is known to be down, logins fail at once
 * (unavailable, nothing counted), /health/ready names the backend, and after
 * the cool-down one login probes the directory and finds it back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import type { WindowsBackend } from '../../src/authn/windows/windows-backend';
import { UnavailableError } from '../../src/shared/errors';
import { type TestContext, createTestContext } from '../support/test-app';
import { adWindowsBackend, secretFile, slapdBackend } from '../support/directory-config';
import { directoryEnv } from '../support/directory-env';

const env = directoryEnv();
const context = { clientIp: '127.0.0.1', userAgent: 'jest', channel: 'test' };
const DEADLINE_SECONDS = 1;
/** Allowed overshoot of a login over its deadline (timer and event-loop slack on a shared machine). */
const RATIO = 1.3;

interface Hole {
  port: number;
  close(): Promise<void>;
}

/** Accepts TCP connections and never sends a byte. */
async function acceptingHole(): Promise<Hole> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Listens with a full accept queue and never accepts: connecting hangs (Node cannot listen without accepting). */
async function nonAcceptingHole(): Promise<Hole> {
  const script = [
    'import socket, time',
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    'port = s.getsockname()[1]',
    'fill = []',
    'for _ in range(3):',
    '    c = socket.socket(); c.setblocking(False)',
    "    try: c.connect(('127.0.0.1', port))",
    '    except BlockingIOError: pass',
    '    fill.append(c)',
    'time.sleep(0.3)',
    'print(port, flush=True)',
    'time.sleep(600)',
  ].join('\n');
  const child: ChildProcess = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('error', reject);
  });
  return { port, close: async () => void child.kill() };
}

function withBackends(backends: unknown[], extra: Record<string, unknown> = {}): Promise<TestContext> {
  return createTestContext({ overrides: { ...extra, authentication: { backends: backends as never } } });
}

/**
 * Runs `count` overlapping calls, started 150 ms apart (so a queued call is
 * still waiting when a connection fails and frees its place); returns each
 * one's duration in seconds and how it ended.
 */
async function concurrently<T>(count: number, call: (i: number) => Promise<T>): Promise<{ seconds: number; result: T | Error }[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 150));
      const started = performance.now();
      const result = await call(i).catch((error: Error) => error);
      return { seconds: (performance.now() - started) / 1000, result };
    }),
  );
}

const bounds = { connectTimeoutSeconds: 1, operationTimeoutSeconds: 1, loginDeadlineSeconds: DEADLINE_SECONDS, poolSize: 2, breakerFailures: 0 };

describe.each([
  ['accepts and never answers', acceptingHole],
  ['never accepts', nonAcceptingHole],
])('a black-hole directory that %s', (_label, makeHole) => {
  let hole: Hole;
  beforeAll(async () => {
    hole = await makeHole();
  });
  afterAll(() => hole.close());

  test('LDAP backend: 8 concurrent logins on a pool of 2 each end within 1.3 × loginDeadlineSeconds, unavailable, nothing counted', async () => {
    const ctx = await withBackends([slapdBackend({ url: `ldap://127.0.0.1:${hole.port}`, allowInsecure: true, ...bounds })]);
    try {
      // One name per login: attempts in flight for one name are limited by the lockout, not by the directory.
      const runs = await concurrently(8, (i) => ctx.services.loginService.login({ username: `user-${i}`, password: 'a-password' }, context));
      for (const run of runs) expect(run.result).toMatchObject({ status: 'unavailable', dependency: 'directory' });
      const ratios = runs.map((r) => r.seconds / DEADLINE_SECONDS);
      expect(Math.max(...ratios)).toBeLessThanOrEqual(RATIO);
      for (let i = 0; i < 8; i++) expect((await ctx.services.lockouts.get(`user-${i}`)).failureCount).toBe(0);
    } finally {
      await ctx.close();
    }
  });

  test("Windows backend's directory lookup: 8 concurrent lookups on a pool of 2 each end within 1.3 × loginDeadlineSeconds", async () => {
    const ad = env.ad;
    const directory = { url: `ldap://127.0.0.1:${hole.port}`, allowInsecure: true, serviceAccount: { dn: ad.bindUpn, passwordFile: secretFile('unused', 0o600) }, searchBase: ad.baseDn, ...bounds };
    const ctx = await withBackends([adWindowsBackend({ spnego: false, directory })]);
    try {
      const backend = ctx.services.backends.find((b) => b.name === 'windows') as WindowsBackend;
      const runs = await concurrently(8, () => backend.principalFor('alice'));
      for (const run of runs) expect(run.result).toBeInstanceOf(UnavailableError);
      expect(Math.max(...runs.map((r) => r.seconds / DEADLINE_SECONDS))).toBeLessThanOrEqual(RATIO);
    } finally {
      await ctx.close();
    }
  });
});

/** A TCP proxy to slapd's LDAPS port that can be switched to swallow everything instead. */
async function switchableProxy(target: URL): Promise<Hole & { mode: 'forward' | 'hole' }> {
  const sockets = new Set<net.Socket>();
  const proxy = {
    mode: 'hole' as 'forward' | 'hole',
    port: 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('error', () => undefined);
    if (proxy.mode === 'hole') return;
    const upstream = net.connect({ host: target.hostname, port: Number(target.port) });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as net.AddressInfo).port;
  return proxy;
}

describe('circuit breaker', () => {
  test('after breakerFailures timeouts logins fail at once (nothing counted) and /health/ready names the backend; after the cool-down one login finds it back', async () => {
    const proxy = await switchableProxy(new URL(env.ldap.ldapsUrl));
    const deadline = 0.8;
    const ctx = await withBackends([
      slapdBackend({ url: `ldaps://127.0.0.1:${proxy.port}`, connectTimeoutSeconds: 0.5, operationTimeoutSeconds: 0.5, loginDeadlineSeconds: deadline, breakerFailures: 2, breakerCooldownSeconds: 1.5 }),
    ]);
    const login = async () => {
      const started = performance.now();
      const result = await ctx.services.loginService.login({ username: 'bob', password: 'bobpass' }, context);
      return { result, ratio: (performance.now() - started) / 1000 / deadline };
    };
    try {
      // Two logins wait for the silent directory (each bounded by its deadline); the breaker then opens.
      for (let i = 0; i < 2; i++) expect((await login()).result).toMatchObject({ status: 'unavailable' });
      const fast = await login();
      expect(fast.result).toMatchObject({ status: 'unavailable', dependency: 'directory', message: expect.stringContaining('is down') });
      expect(fast.ratio).toBeLessThan(0.25);
      const ready = await ctx.agent().get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.checks).toMatchObject({ database: { ok: true }, 'backend:ldap': { ok: false } });
      expect((await ctx.services.lockouts.get('bob')).failureCount).toBe(0);

      // The directory is back, but it is known to be down until the cool-down ends.
      proxy.mode = 'forward';
      expect((await login()).result).toMatchObject({ status: 'unavailable', message: expect.stringContaining('is down') });
      await new Promise((resolve) => setTimeout(resolve, 1600));
      expect((await login()).result).toMatchObject({ status: 'success' });
      expect((await ctx.agent().get('/health/ready')).status).toBe(200);
    } finally {
      await ctx.close();
      await proxy.close();
    }
  });
});
