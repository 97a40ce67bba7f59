import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { ConfigError } from '../../src/shared/errors';

/**
 * Issue 11 item 7 / issue 16 item 7: everything knowable before listening is
 * checked by loadConfig, all at once, naming file and key.
 */

let root: string;
let configDir: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-preflight-'));
  configDir = path.join(root, 'config');
  mkdirSync(configDir);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const jsonFile = () => path.join(configDir, 'portcullis.json');
const privateFile = () => path.join(configDir, 'private.config');

function problemsFor(json: unknown, privateConfig?: string): string[] {
  writeFileSync(jsonFile(), JSON.stringify(json));
  if (privateConfig !== undefined) writeFileSync(privateFile(), `<configuration><appSettings>${privateConfig}</appSettings></configuration>`);
  try {
    loadConfig({ configDir, dataDir: path.join(root, 'data'), env: {} });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

function file(name: string, mode = 0o600): string {
  const full = path.join(root, name);
  writeFileSync(full, 'x\n');
  chmodSync(full, mode);
  return full;
}

const ldap = (extra: Record<string, unknown>) => ({ type: 'ldap', url: 'ldaps://ldap.example.org', bindDnTemplate: 'uid={{username}},ou=people,dc=example,dc=org', ...extra });

describe('loadConfig checks the configuration whole', () => {
  it('refuses a malformed LDAP filter template, naming file and key', () => {
    const problems = problemsFor({ authentication: { backends: [ldap({ bindDnTemplate: undefined, searchBase: 'dc=x', serviceAccount: { dn: 'cn=svc', passwordFile: file('pw') }, searchFilter: '(uid={{username}}' })] } });
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^${jsonFile()}: authentication\\.backends\\.0\\.searchFilter: not a valid LDAP filter`))]);
  });

  it('refuses groupSearch without a service account', () => {
    expect(problemsFor({ authentication: { backends: [ldap({ groupSearch: { base: 'ou=groups,dc=example,dc=org' } })] } })).toEqual([
      `${jsonFile()}: authentication.backends.0.groupSearch: needs a serviceAccount to search groups`,
    ]);
  });

  it('refuses a missing CA file and a missing service-account password file', () => {
    const problems = problemsFor({ authentication: { backends: [ldap({ caFile: path.join(root, 'no-ca.pem') })] }, cas: { outboundCaFile: path.join(root, 'no-out.pem') } });
    expect(problems).toEqual([
      `${jsonFile()}: cas.outboundCaFile: file not found: ${path.join(root, 'no-out.pem')}`,
      `${jsonFile()}: authentication.backends.0.caFile: file not found: ${path.join(root, 'no-ca.pem')}`,
    ]);
  });

  it('refuses a missing keytab and krb5.conf, and a world-readable keytab', () => {
    const windows = { type: 'windows', realm: 'EXAMPLE.ORG', servicePrincipal: 'HTTP/sso.example.org@EXAMPLE.ORG' };
    expect(problemsFor({ authentication: { backends: [{ ...windows, krb5Config: path.join(root, 'krb5.conf'), keytab: path.join(root, 'http.keytab') }] } })).toEqual([
      `${jsonFile()}: authentication.backends.0.krb5Config: file not found: ${path.join(root, 'krb5.conf')}`,
      `${jsonFile()}: authentication.backends.0.keytab: file not found: ${path.join(root, 'http.keytab')}`,
    ]);
    const keytab = file('open.keytab', 0o644);
    expect(problemsFor({ authentication: { backends: [{ ...windows, krb5Config: file('krb5.conf', 0o644), keytab }] } })).toEqual([
      `${jsonFile()}: authentication.backends.0.keytab: ${keytab} is world-readable (mode 644); chmod o-r it`,
    ]);
  });

  it('refuses a missing TLS certificate and a world-readable key, both at once', () => {
    const key = file('key.pem', 0o644);
    const cert = path.join(root, 'cert.pem');
    expect(problemsFor({ server: { tls: { certFile: cert, keyFile: key } }, password: { blocklistFile: path.join(root, 'nope.txt') } })).toEqual([
      `${jsonFile()}: server.tls.certFile: file not found: ${cert}`,
      `${jsonFile()}: server.tls.keyFile: ${key} is world-readable (mode 644); chmod o-r it`,
      `${jsonFile()}: password.blocklistFile: file not found: ${path.join(root, 'nope.txt')}`,
    ]);
  });

  it('refuses an out-of-range JSON value even when private.config overrides the key', () => {
    const problems = problemsFor({ lockout: { maxAllowedLoginFailureCount: -1 } }, '<add key="MaxAllowedLoginFailureCount" value="5"/>');
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^${jsonFile()}: lockout\\.maxAllowedLoginFailureCount: .*allowed: 0–100.*overridden by ${privateFile()}`))]);
  });

  it('names private.config problems by its own key and states the allowed range', () => {
    expect(problemsFor({}, '<add key="PasswordMinLength" value="3"/>')).toEqual([expect.stringMatching(new RegExp(`^${privateFile()}: PasswordMinLength: .*\\(allowed: 6–128\\)$`))]);
  });

  it('accepts files that exist, are readable and keep secrets closed', () => {
    expect(problemsFor({ server: { tls: { certFile: file('c.pem', 0o644), keyFile: file('k.pem', 0o600) } } })).toEqual([]);
  });
});
