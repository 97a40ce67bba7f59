import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UnavailableError } from '../../shared/errors';

/**
 * Kerberos password check that also proves the KDC is genuine.
 *
 * Getting a TGT with the password only shows that *something* answering as
 * the KDC accepted it: an attacker who can spoof the KDC can make any
 * password "work". The defence (what krb5_verify_init_creds does) is to use
 * that TGT to get a ticket for our own service principal and decrypt it with
 * our keytab: only the real KDC knows that key.
 *
 * The npm `kerberos` package's checkPassword() does NOT do this (its
 * authenticate_user_krb5pwd calls krb5_get_init_creds_password and never
 * verifies; the `service` argument is parsed and ignored), so we use MIT's
 * `kinit` (password on stdin, never in argv) into a private, throw-away
 * credential cache, then `kvno -k <keytab>`, which decrypts the service
 * ticket with the keytab. Each check has its own cache and environment, so
 * concurrent checks never share state.
 */

export type KerberosVerdict =
  | 'ok'
  /** Wrong password (preauthentication failed). */
  | 'bad_password'
  | 'unknown_principal'
  /** KDC_ERR_CLIENT_REVOKED: disabled, expired or locked account (AD does not say which). */
  | 'revoked'
  /** KDC_ERR_KEY_EXPIRED: the password must be changed (expired, or "must change at next logon"). */
  | 'password_expired';

export interface KerberosCheckSettings {
  krb5Config: string;
  keytab: string;
  servicePrincipal: string;
  timeoutMs: number;
  /** Directory of kinit/kvno (default: found on PATH). */
  toolsDir?: string;
}

interface RunResult {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], input: string | null, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => (signal ? reject(new Error(`${path.basename(command)} killed by ${signal} (no answer within ${timeoutMs} ms)`)) : resolve({ code, output })));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** Maps kinit's message (com_err text, C locale) to a verdict; null = the KDC could not be asked properly. */
export function classifyKinitFailure(output: string): KerberosVerdict | null {
  if (/Password incorrect|Preauthentication failed|Decrypt integrity check failed|Integrity check on decrypted field failed/i.test(output)) return 'bad_password';
  if (/not found in Kerberos database/i.test(output)) return 'unknown_principal';
  if (/credentials have been revoked/i.test(output)) return 'revoked';
  // A "must change" account makes kinit prompt for a new password, which we never give.
  if (/Password (has )?expired|Enter new password/i.test(output)) return 'password_expired';
  return null;
}

export async function verifyKerberosPassword(principal: string, password: string, settings: KerberosCheckSettings): Promise<KerberosVerdict> {
  const tool = (name: string) => (settings.toolsDir ? path.join(settings.toolsDir, name) : name);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-krb-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LC_ALL: 'C',
    KRB5_CONFIG: settings.krb5Config,
    KRB5CCNAME: `FILE:${path.join(dir, 'ccache')}`,
    // kinit must not pick up a keytab or trace settings from our own environment.
    KRB5_KTNAME: `FILE:${settings.keytab}`,
  };
  try {
    const kinit = await run(tool('kinit'), ['-c', env.KRB5CCNAME as string, '--', principal], `${password}\n`, env, settings.timeoutMs);
    if (kinit.code !== 0) {
      const verdict = classifyKinitFailure(kinit.output);
      if (verdict) return verdict;
      throw new Error(kinit.output.replace(/Password for \S+:\s*/g, '').trim() || `kinit exited with ${kinit.code}`);
    }
    const kvno = await run(tool('kvno'), ['-c', env.KRB5CCNAME as string, '-k', settings.keytab, settings.servicePrincipal], null, env, settings.timeoutMs);
    if (kvno.code !== 0 || !/keytab entry valid/.test(kvno.output)) {
      throw new Error(`the KDC's answer could not be verified with the keytab ${settings.keytab} for ${settings.servicePrincipal} (wrong keytab, or a spoofed KDC): ${kvno.output.trim()}`);
    }
    return 'ok';
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    throw new UnavailableError('directory', `Kerberos password check failed: ${(error as Error).message}`, { cause: error });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
