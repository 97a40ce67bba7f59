import { webcrypto } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * Real peers for the CAS server's outbound calls: a throwaway certificate
 * authority and HTTP(S) receivers on 127.0.0.1 that record what they get
 * (proxy callbacks, single-logout POSTs).
 */

export interface KeyPair {
  cert: string;
  key: string;
}

export interface TestCa {
  /** The CA certificate (PEM), to put in `cas.outboundCaFile`. */
  caPem: string;
  /** A server certificate for 127.0.0.1 / localhost signed by this CA. */
  issue(): Promise<KeyPair>;
}

async function x509() {
  await import('reflect-metadata');
  const lib = await import('@peculiar/x509');
  lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0]);
  return lib;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');

type WebCryptoKey = webcrypto.CryptoKey;
type WebCryptoKeyPair = webcrypto.CryptoKeyPair;
type CreateParams = Extract<Parameters<Awaited<ReturnType<typeof x509>>['X509CertificateGenerator']['create']>[0], { signingKey: unknown }>;

async function pkcs8Pem(key: WebCryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

export async function createTestCa(name = 'Portcullis Test CA'): Promise<TestCa> {
  const lib = await x509();
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as WebCryptoKeyPair;
  const now = Date.now();
  const caCert = await lib.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    keys: caKeys as unknown as Parameters<typeof lib.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: ALG,
    extensions: [new lib.BasicConstraintsExtension(true, 0, true), new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true)],
  });
  return {
    caPem: caCert.toString('pem') + '\n',
    async issue() {
      const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as WebCryptoKeyPair;
      const cert = await lib.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: 'CN=127.0.0.1',
        issuer: caCert.subject,
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + 86_400_000),
        signingAlgorithm: ALG,
        publicKey: keys.publicKey as unknown as CreateParams['publicKey'],
        signingKey: caKeys.privateKey as unknown as CreateParams['signingKey'],
        extensions: [
          new lib.BasicConstraintsExtension(false, undefined, true),
          new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
          new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth]),
          new lib.SubjectAlternativeNameExtension([
            { type: 'ip', value: '127.0.0.1' },
            { type: 'dns', value: 'localhost' },
          ]),
        ],
      });
      return { cert: cert.toString('pem') + '\n', key: await pkcs8Pem(keys.privateKey) };
    },
  };
}

export interface ReceivedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Form fields of an application/x-www-form-urlencoded body. */
  form: URLSearchParams;
}

/** What to answer: a status, or 'hang' to never answer (a stuck service). */
export type Reply = number | 'hang';

export interface Receiver {
  /** Base URL, e.g. https://127.0.0.1:PORT */
  url: string;
  requests: ReceivedRequest[];
  /** Changes the answer for the following requests. */
  reply(next: Reply | ((r: ReceivedRequest) => Reply)): void;
  /** Resolves once `count` requests have arrived (fails after `timeoutMs`). */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(options: { tls?: KeyPair; reply?: Reply } = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  let decide: (r: ReceivedRequest) => Reply = () => options.reply ?? 200;
  const waiters: (() => void)[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const received: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        query: new URL(req.url ?? '/', 'http://x').searchParams,
        headers: req.headers,
        body,
        form: new URLSearchParams(req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? body : ''),
      };
      requests.push(received);
      waiters.splice(0).forEach((w) => w());
      const reply = decide(received);
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(reply, { 'Content-Type': 'text/plain' }).end('ok');
    });
  };
  const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    reply(next) {
      decide = typeof next === 'function' ? next : () => next;
    },
    async waitForRequests(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} requests, got ${requests.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100).unref();
        });
      }
      return requests;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A port that was just free: connecting to it is refused (a dead service). */
export async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
