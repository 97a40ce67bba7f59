import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { certificateCovers } from '../../src/http/tls';
import { ServerProcess, requireBuild } from '../support/process';

/** A self-signed certificate for localhost and 127.0.0.1, made with openssl; returns [cert, key] paths. */
function makeCertificate(dir: string, name: string): [string, string] {
  const cert = path.join(dir, `${name}-cert.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  chmodSync(key, 0o600);
  return [cert, key];
}

/** The SHA-256 fingerprint of the certificate a new connection is served. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

const fingerprintOf = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

describe('certificate reload on SIGHUP, and the public host check at start', () => {
  beforeAll(requireBuild);

  it('certificateCovers reads the subject alternative names', () => {
    const [cert] = makeCertificate(mkdtempSync(path.join(os.tmpdir(), 'portcullis-tls-')), 'covers');
    const pem = readFileSync(cert, 'utf8');
    expect([certificateCovers(pem, 'localhost'), certificateCovers(pem, '127.0.0.1'), certificateCovers(pem, 'sso.example.org'), certificateCovers(pem, '10.0.0.1')]).toEqual([true, true, false, false]);
  });

  it('warns when server.publicUrl is not in the certificate; serves a replaced certificate after SIGHUP; keeps it when the new files are bad', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-tls-'));
    const configDir = path.join(root, 'config');
    mkdirSync(configDir);
    const [oldCert, oldKey] = makeCertificate(root, 'old');
    const [newCert, newKey] = makeCertificate(root, 'new');
    const certFile = path.join(root, 'cert.pem');
    const keyFile = path.join(root, 'key.pem');
    copyFileSync(oldCert, certFile);
    copyFileSync(oldKey, keyFile);
    writeFileSync(path.join(configDir, 'portcullis.json'), JSON.stringify({ server: { tls: { certFile, keyFile } } }));
    const server = new ServerProcess({
      PORTCULLIS_PORT: '0',
      PORTCULLIS_HOST: '127.0.0.1',
      PORTCULLIS_PUBLIC_URL: 'https://sso.example.org',
      PORTCULLIS_DATA_DIR: path.join(root, 'data'),
      PORTCULLIS_CONFIG_DIR: configDir,
    });
    try {
      const port = Number((await server.waitFor(/listening on https:\/\/127\.0\.0\.1:(\d+)/))[1]);
      await server.waitFor(/WARNING: the certificate is not valid for sso\.example\.org \(server\.publicUrl\)/);
      await server.waitFor(/"event":"certificate_host_mismatch"/);
      expect(await servedFingerprint(port)).toBe(fingerprintOf(oldCert));

      copyFileSync(newCert, certFile);
      copyFileSync(newKey, keyFile);
      server.child.kill('SIGHUP');
      await server.waitFor(new RegExp(`"event":"certificate_reloaded".*"fingerprint":"${fingerprintOf(newCert)}"`));
      expect(await servedFingerprint(port)).toBe(fingerprintOf(newCert));

      // A key that does not match the certificate: refused, the served certificate stays.
      copyFileSync(oldKey, keyFile);
      server.child.kill('SIGHUP');
      await server.waitFor(/"event":"certificate_reload_failed"/);
      expect(await servedFingerprint(port)).toBe(fingerprintOf(newCert));
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
