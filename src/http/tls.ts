import { X509Certificate, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/schema';
import { readSecretFile } from '../config/load';
import type { Logger } from '../shared/logger';


export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint of the certificate (colon-separated hex). */
  fingerprint: string;
  source: string;
  generated: boolean;
}

export function certificateFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

async function generateSelfSigned(): Promise<{ cert: string; key: string }> {
  // Loaded only on first start: the library and its reflect polyfill cost startup time.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const now = new Date();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    name: 'CN=Portcullis self-signed',
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 825 * 86_400_000),
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'dns', value: os.hostname() },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem') + '\n', key };
}

/**
 * The configured certificate, or a self-signed one generated into the data
 * directory on first start and reused afterwards.
 */
export async function loadOrCreateTls(tls: Config['server']['tls'], dataDir: string): Promise<TlsMaterial> {
  if (tls.certFile && tls.keyFile) {
    const cert = readFileSync(tls.certFile, 'utf8');
    return { cert, key: readSecretFile(tls.keyFile), fingerprint: certificateFingerprint(cert), source: tls.certFile, generated: false };
  }
  const dir = path.join(dataDir, 'tls');
  const certFile = path.join(dir, 'self-signed-cert.pem');
  const keyFile = path.join(dir, 'self-signed-key.pem');
  let generated = false;
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = await generateSelfSigned();
    writeFileSync(keyFile, pair.key, { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    writeFileSync(certFile, pair.cert, { mode: 0o644 });
    generated = true;
  }
  const cert = readFileSync(certFile, 'utf8');
  return { cert, key: readSecretFile(keyFile), fingerprint: certificateFingerprint(cert), source: certFile, generated };
}

/** Whether the certificate is valid for `host` (a DNS name, wildcards included, or an IP address). */
export function certificateCovers(certPem: string, host: string): boolean {
  const cert = new X509Certificate(certPem);
  const bare = host.replace(/^\[|\]$/g, '');
  return (isIP(bare) ? cert.checkIP(bare) : cert.checkHost(bare)) !== undefined;
}

/**
 * Reads the certificate and key again and serves them to new connections
 * (open ones keep theirs). A file that cannot be read, or a key that does not
 * match, leaves the current certificate in place and logs why.
 */
export async function reloadTls(server: https.Server, tls: Config['server']['tls'], dataDir: string, logger: Logger): Promise<boolean> {
  try {
    const material = await loadOrCreateTls(tls, dataDir);
    server.setSecureContext({ cert: material.cert, key: material.key, minVersion: tls.minVersion });
    logger.info({ event: 'certificate_reloaded', source: material.source, fingerprint: material.fingerprint }, `certificate reloaded from ${material.source}`);
    return true;
  } catch (error) {
    const reason = (error as Error).message;
    logger.error({ event: 'certificate_reload_failed', reason }, `certificate reload failed, keeping the current certificate: ${reason}`);
    return false;
  }
}

/** Reloads the certificate on SIGHUP (as the policy is). Returns a stop function. */
export function reloadTlsOnHangup(server: https.Server, tls: Config['server']['tls'], dataDir: string, logger: Logger): () => void {
  const onHangup = () => void reloadTls(server, tls, dataDir, logger);
  process.on('SIGHUP', onHangup);
  return () => process.off('SIGHUP', onHangup);
}
