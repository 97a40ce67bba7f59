import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';

/**
 * A browser on a domain-joined machine, for SPNEGO tests: `kinit` into a
 * private credential cache, then the npm `kerberos` client builds the
 * `Authorization: Negotiate` token for HTTP@localhost.
 */
export async function kinit(principal: string, password: string, krb5Config: string): Promise<string> {
  const ccache = `FILE:${path.join(mkdtempSync(path.join(os.tmpdir(), 'portcullis-kinit-')), 'ccache')}`;
  execFileSync('kinit', ['-c', ccache, principal], { input: `${password}\n`, env: { PATH: process.env.PATH, LC_ALL: 'C', KRB5_CONFIG: krb5Config }, stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
  return ccache;
}

const CLIENT_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
Object.assign(process.env, workerData.env);
const kerberos = require(workerData.modulePath);
kerberos.initializeClient('HTTP@localhost', { mechOID: kerberos.GSS_MECH_OID_SPNEGO })
  .then((client) => client.step(''))
  .then((token) => parentPort.postMessage({ token }), (error) => parentPort.postMessage({ error: String(error.message || error) }));
`;

/**
 * The Negotiate token a browser holding `ccache`'s ticket would send to
 * HTTP@localhost. Built in a worker thread (like the server side, see
 * src/authn/windows/kerberos-acceptor.ts) that sets the real KRB5CCNAME /
 * KRB5_CONFIG, which libkrb5 reads.
 */
export function negotiateToken(ccache: string, krb5Config: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT_SOURCE, { eval: true, env: SHARE_ENV, workerData: { env: { KRB5CCNAME: ccache, KRB5_CONFIG: krb5Config }, modulePath: require.resolve('kerberos') } });
    worker.once('message', (reply: { token?: string; error?: string }) => {
      void worker.terminate();
      if (reply.token) resolve(reply.token);
      else reject(new Error(`kerberos client: ${reply.error}`));
    });
    worker.once('error', reject);
  });
}
