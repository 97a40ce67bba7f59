import type https from 'node:https';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  headersTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  keepAliveTimeoutSeconds: number;
  /** Concurrent connections one client address may hold; 0 = no cap. */
  maxConnectionsPerClient: number;
}

/**
 * Options for https.createServer. Node only looks for expired requests every
 * connectionsCheckingInterval (30 s by default), so a slow client would keep
 * its connection up to that much past the timeout: check at a quarter of
 * the shortest one. The TLS handshake gets the headers' bound too.
 */
export function timeoutOptions(limits: ConnectionLimits): Pick<https.ServerOptions, 'headersTimeout' | 'requestTimeout' | 'connectionsCheckingInterval' | 'handshakeTimeout'> {
  const headersTimeout = limits.headersTimeoutSeconds * 1000;
  const requestTimeout = limits.requestTimeoutSeconds * 1000;
  return { headersTimeout, requestTimeout, handshakeTimeout: headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout / 4) };
}

/** "::ffff:192.0.2.1" and "192.0.2.1" are one client. */
function clientAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Applies the keep-alive timeout and the per-client cap on concurrent
 * connections, counted on the raw TCP connection before any TLS work, so a
 * client cannot hold more than its share of sockets open. A peer trusted as
 * a proxy (`server.trustProxy`) is exempt: many clients arrive through it.
 */
export function applyConnectionLimits(server: https.Server, limits: ConnectionLimits, isTrustedProxy: (address: string) => boolean, onRefused: (address: string) => void): void {
  server.keepAliveTimeout = limits.keepAliveTimeoutSeconds * 1000;
  if (limits.maxConnectionsPerClient <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = clientAddress(socket);
    if (isTrustedProxy(address)) return;
    const count = open.get(address) ?? 0;
    if (count >= limits.maxConnectionsPerClient) {
      onRefused(address);
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
