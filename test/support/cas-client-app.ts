import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KeyPair } from './cas-servers';

export interface ClientApp {
  /** https://127.0.0.1:PORT of the application. */
  url: string;
  /** The application's own output, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts test/support/cas-client-process.cjs (a real application using the npm
 * CAS client) as a child process that trusts `casCa` for its calls to the CAS
 * server and serves HTTPS with `tls`.
 */
export async function startClientApp(casBaseUrl: string, casCa: string, tls: KeyPair): Promise<ClientApp> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-client-app-'));
  const file = (name: string, content: string) => {
    writeFileSync(path.join(dir, name), content);
    return path.join(dir, name);
  };
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'cas-client-process.cjs')], {
    env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: file('cas-ca.pem', casCa), CAS_BASE_URL: casBaseUrl, APP_CERT_FILE: file('cert.pem', tls.cert), APP_KEY_FILE: file('key.pem', tls.key) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /\{"port":(\d+)\}/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`client app exited with ${code}: ${output}`)));
  });
  return {
    url: `https://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
