import net from 'node:net';
import tls from 'node:tls';
import { type Cluster, type Instance, eventually, startCluster } from '../support/instances';

/**
 * Graceful shutdown of a real process on SIGTERM (what a load balancer's
 * rolling restart sends): stop accepting connections, let in-flight
 * requests finish within server.shutdownGraceSeconds, close the pool, exit 0.
 */

/**
 * Opens a TLS connection and sends a POST's headers with `Expect: 100-continue`;
 * resolves once the server answered "100 Continue", i.e. the request is in flight.
 */
async function requestInFlight(instance: Instance, body: string): Promise<{ socket: tls.TLSSocket; received: () => string; closed: Promise<void> }> {
  const { hostname, port } = new URL(instance.url);
  const socket = tls.connect({ host: hostname, port: Number(port), ca: instance.ca, servername: 'localhost', checkServerIdentity: () => undefined });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
  socket.write(
    `POST /cas/login HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  await eventually('100 Continue', () => text.includes('100 Continue'));
  return { socket, received: () => text, closed };
}

function connectionRefused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const probe = net.connect(Number(port), hostname);
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('graceful shutdown on SIGTERM', () => {
  let cluster: Cluster;
  afterEach(() => cluster.close());

  it('refuses new connections, finishes the in-flight request, and exits 0', async () => {
    cluster = await startCluster(1);
    const [instance] = cluster.instances;
    const body = 'username=alice&password=Some-Password-1&execution=expired';
    const inFlight = await requestInFlight(instance, body);
    instance.process.child.kill('SIGTERM');
    await eventually('listener closed', () => connectionRefused(instance.url));
    expect(await connectionRefused(instance.opsUrl)).toBe(false); // ops port closes only after the main port drained
    inFlight.socket.write(body);
    await eventually('response to the in-flight request', () => /HTTP\/1\.1 403 Forbidden[\s\S]*<\/html>/.test(inFlight.received()));
    expect(inFlight.received()).toContain('Your sign-in form expired');
    expect(await instance.process.exited).toBe(0);
    expect(instance.logs().some((l) => l.event === 'stopping' && l.signal === 'SIGTERM')).toBe(true);
  });

  it('does not wait longer than shutdownGraceSeconds for a request that never completes', async () => {
    cluster = await startCluster(1, { files: { 'portcullis.json': JSON.stringify({ server: { shutdownGraceSeconds: 1 } }) } });
    const [instance] = cluster.instances;
    const stuck = await requestInFlight(instance, 'username=alice&password=never-sent');
    instance.process.child.kill('SIGTERM');
    expect(await instance.process.exited).toBe(0);
    await stuck.closed;
    expect(stuck.received()).not.toContain('HTTP/1.1 403');
  });
});
