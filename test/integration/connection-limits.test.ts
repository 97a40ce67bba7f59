import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '../../src/config/load';
import type { ConfigInput } from '../../src/config/schema';
import { type RunningServer, startServer } from '../../src/server';

/**
 * Real `startServer` listeners on loopback: slow clients are cut off by the
 * configured timeouts while others are served, and one client address cannot
 * hold more than server.maxConnectionsPerClient connections.
 */

async function start(server: ConfigInput['server']): Promise<{ running: RunningServer; close: () => Promise<void> }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-conn-'));
  mkdirSync(path.join(root, 'config'));
  const loaded = loadConfig({
    configDir: path.join(root, 'config'),
    dataDir: path.join(root, 'data'),
    env: {},
    overrides: { server: { host: '127.0.0.1', port: 0, ...server }, database: { client: 'sqlite', filename: 'test.sqlite' }, logging: { level: 'silent' } },
  });
  const running = await startServer(loaded, { print: () => undefined });
  return {
    running,
    close: async () => {
      await running.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function connect(port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(socket));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the handshake finished')));
  });
}

/** One GET on a fresh connection; resolves with the status. */
function get(port: number, pathname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: pathname, rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends `head` then `total` more bytes, one every 200 ms, until done or the
 * server closes the connection; returns how many of them were sent and what
 * the server answered.
 */
async function drip(port: number, head: string, total: number): Promise<{ sent: number; answer: string }> {
  const socket = await connect(port);
  let answer = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  socket.write(head);
  let sent = 0;
  while (sent < total && !closed) {
    await sleep(200);
    if (!closed) socket.write('a');
    sent++;
  }
  socket.destroy();
  return { sent, answer };
}

describe('connection limits (real HTTPS server on loopback)', () => {
  describe('timeouts', () => {
    let server: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      server = await start({ headersTimeoutSeconds: 1, requestTimeoutSeconds: 1, keepAliveTimeoutSeconds: 1, maxConnectionsPerClient: 0 });
    }, 60_000);
    afterAll(() => server.close());

    it('cuts off a slow-body client (408) while a normal client keeps being served', async () => {
      const { port } = server.running;
      const body = 100; // 20 s at one byte per 200 ms; the request timeout is 1 s
      const head = `POST /cas/v1/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body}\r\n\r\n`;
      const slow = drip(port, head, body);
      const served: number[] = [];
      let done = false;
      void slow.finally(() => (done = true));
      while (!done) {
        served.push(await get(port, '/health/live'));
        await sleep(100);
      }
      const { sent, answer } = await slow;
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      // Cut off after a small fraction of the body (about 5 of 100 bytes).
      expect(sent / body).toBeLessThan(0.5);
      expect(served.length).toBeGreaterThan(0);
      expect(served.every((status) => status === 200)).toBe(true);
    }, 60_000);

    it('cuts off a client that sends its headers slowly', async () => {
      const head = 'GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';
      const { sent } = await drip(server.running.port, head, 100);
      expect(sent / 100).toBeLessThan(0.5);
      expect(await get(server.running.port, '/health/live')).toBe(200);
    }, 60_000);
  });

  describe('per-client cap', () => {
    let server: Awaited<ReturnType<typeof start>>;
    beforeAll(async () => {
      server = await start({ maxConnectionsPerClient: 4 });
    }, 60_000);
    afterAll(() => server.close());

    it('refuses the N+1th concurrent connection of one address, and accepts again once one closes', async () => {
      const { port } = server.running;
      const held = [await connect(port), await connect(port), await connect(port), await connect(port)];
      await expect(connect(port)).rejects.toThrow();
      expect((await server.running.services.metrics.render()).body).toMatch(/^portcullis_connections_refused_total\{[^}]*\} 1$/m);
      const closed = new Promise((resolve) => held[0].once('close', resolve));
      held[0].destroy();
      await closed;
      // The server sees the close a moment later: retry until it has.
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) status = await get(port, '/health/live').catch(() => sleep(50).then(() => 0));
      expect(status).toBe(200);
      for (const socket of held) socket.destroy();
    }, 60_000);

    it('does not cap a peer trusted as a proxy (its connections carry many clients)', async () => {
      const proxied = await start({ maxConnectionsPerClient: 1, trustProxy: ['127.0.0.1'] });
      try {
        const held = [await connect(proxied.running.port), await connect(proxied.running.port)];
        expect(await get(proxied.running.port, '/health/live')).toBe(200);
        for (const socket of held) socket.destroy();
      } finally {
        await proxied.close();
      }
    }, 60_000);
  });
});
