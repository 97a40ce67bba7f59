import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setRealEnvironment } from './directory-env';

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

/** The Negotiate token a browser holding `ccache`'s ticket would send to HTTP@localhost. */
export async function negotiateToken(ccache: string, krb5Config: string): Promise<string> {
  // libkrb5 reads these from the real process environment (shared with the server side in this process).
  await setRealEnvironment({ KRB5CCNAME: ccache, KRB5_CONFIG: krb5Config });
  const kerberos = await import('kerberos');
  const client = await kerberos.initializeClient('HTTP@localhost', { mechOID: kerberos.GSS_MECH_OID_SPNEGO });
  return client.step('');
}
