import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { ConfigError } from '../shared/errors';

export interface OutboundResponse {
  status: number;
}

export interface OutboundRequest {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

/** Loads the extra CA bundle for outbound HTTPS (config `cas.outboundCaFile`), added to Node's public roots. */
export function loadOutboundCa(file: string | undefined): string[] | undefined {
  if (!file) return undefined;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`cas.outboundCaFile: cannot read ${file}: ${(error as Error).message}`]);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError([`cas.outboundCaFile: ${file} holds no PEM certificate`]);
  return [...tls.rootCertificates, pem];
}

/**
 * The server's own outbound requests (proxy callbacks, single-logout POSTs).
 * HTTPS peers are verified (chain, expiry, host name) against Node's roots
 * plus the configured bundle; redirects are not followed; the response body
 * is read and discarded (bounded), and every request has a hard timeout.
 */
export class OutboundHttp {
  private readonly httpsAgent: https.Agent;
  private readonly httpAgent = new http.Agent({ keepAlive: false });

  constructor(ca: string[] | undefined) {
    this.httpsAgent = new https.Agent({ keepAlive: false, ca, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
  }

  send(url: URL, request: OutboundRequest): Promise<OutboundResponse> {
    return new Promise((resolve, reject) => {
      const secure = url.protocol === 'https:';
      const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
      const options: https.RequestOptions = {
        method: request.method,
        agent: secure ? this.httpsAgent : this.httpAgent,
        headers: { 'User-Agent': 'Portcullis-CAS', ...request.headers, ...(body ? { 'Content-Length': String(body.length) } : {}) },
        signal: AbortSignal.timeout(request.timeoutMs),
      };
      const req = (secure ? https : http).request(url, options, (res) => {
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          // Nobody needs more than a status from these peers.
          if (seen > 65_536) res.destroy();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('close', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      });
      req.on('error', (error: Error & { code?: string }) => reject(error.name === 'AbortError' ? new Error(`timed out after ${request.timeoutMs} ms`) : error));
      req.end(body);
    });
  }

  close(): void {
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }
}
