import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ServerProcess, requireBuild, runCli } from '../support/process';

/**
 * Issue 16 item 7: `config check` and `start` give one verdict. Each broken
 * configuration fails both, with the same message naming file and key.
 */

interface Case {
  name: string;
  json: (root: string) => unknown;
  privateConfig?: string;
  expected: RegExp;
}

function secret(root: string, name: string, mode: number): string {
  const file = path.join(root, name);
  writeFileSync(file, 'x\n');
  chmodSync(file, mode);
  return file;
}

const ldapSearch = (root: string, extra: Record<string, unknown>) => ({
  type: 'ldap',
  url: 'ldaps://ldap.example.org',
  searchBase: 'dc=example,dc=org',
  serviceAccount: { dn: 'cn=svc,dc=example,dc=org', passwordFile: secret(root, 'svc.pw', 0o600) },
  ...extra,
});

const CASES: Case[] = [
  { name: 'malformed filter template', json: (root) => ({ authentication: { backends: [ldapSearch(root, { searchFilter: '(uid={{username}}' })] } }), expected: /portcullis\.json: authentication\.backends\.0\.searchFilter: not a valid LDAP filter/ },
  { name: 'missing CA file', json: (root) => ({ authentication: { backends: [ldapSearch(root, { caFile: path.join(root, 'ca.pem') })] } }), expected: /portcullis\.json: authentication\.backends\.0\.caFile: file not found: .*ca\.pem/ },
  {
    name: 'missing keytab',
    json: (root) => ({ authentication: { backends: [{ type: 'windows', realm: 'EXAMPLE.ORG', servicePrincipal: 'HTTP/sso.example.org@EXAMPLE.ORG', krb5Config: secret(root, 'krb5.conf', 0o644), keytab: path.join(root, 'http.keytab') }] } }),
    expected: /portcullis\.json: authentication\.backends\.0\.keytab: file not found: .*http\.keytab/,
  },
  { name: 'missing TLS certificate', json: (root) => ({ server: { tls: { certFile: path.join(root, 'cert.pem'), keyFile: secret(root, 'key.pem', 0o600) } } }), expected: /portcullis\.json: server\.tls\.certFile: file not found: .*cert\.pem/ },
  { name: 'world-readable key', json: (root) => ({ server: { tls: { certFile: secret(root, 'cert.pem', 0o644), keyFile: secret(root, 'key.pem', 0o644) } } }), expected: /portcullis\.json: server\.tls\.keyFile: .*key\.pem is world-readable/ },
  {
    name: 'out-of-range JSON value overridden by private.config',
    json: () => ({ lockout: { maxAllowedLoginFailureCount: -1 } }),
    privateConfig: '<add key="MaxAllowedLoginFailureCount" value="5"/>',
    expected: /portcullis\.json: lockout\.maxAllowedLoginFailureCount: .*allowed: 0–100/,
  },
  { name: 'private.config value out of range', json: () => ({}), privateConfig: '<add key="PasswordMinLength" value="3"/>', expected: /private\.config: PasswordMinLength: .*allowed: 6–128/ },
];

describe('config check and start give the same verdict', () => {
  beforeAll(requireBuild);

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-verdict-'));
    try {
      const configDir = path.join(root, 'config');
      mkdirSync(configDir);
      writeFileSync(path.join(configDir, 'portcullis.json'), JSON.stringify(c.json(root)));
      if (c.privateConfig) writeFileSync(path.join(configDir, 'private.config'), `<configuration><appSettings>${c.privateConfig}</appSettings></configuration>`);
      const env = { PORTCULLIS_CONFIG_DIR: configDir, PORTCULLIS_DATA_DIR: path.join(root, 'data'), PORTCULLIS_PORT: '0', PORTCULLIS_HOST: '127.0.0.1' };
      const check = runCli(['config', 'check'], env);
      const start = runCli(['start'], env);
      expect(check.status).toBe(1);
      expect(start.status).toBe(1);
      expect(check.stderr).toMatch(c.expected);
      expect(start.stderr).toBe(check.stderr);
      expect(start.stderr).not.toMatch(/ENOENT|stack|\n\s+at /);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('config check --all prints every setting with its source; an unknown option is a usage error', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-verdict-'));
    try {
      const env = { PORTCULLIS_CONFIG_DIR: path.join(root, 'config'), PORTCULLIS_DATA_DIR: path.join(root, 'data'), PORTCULLIS_PORT: '9443', DATABASE_URL: 'postgres://cas:Db-Secret-9@db.example.org/cas' };
      const all = runCli(['config', 'check', '--all'], env);
      expect(all.status).toBe(0);
      expect(all.stdout).toMatch(/^server\.port +9443 {2}\[env PORTCULLIS_PORT\]$/m);
      expect(all.stdout).toMatch(/^password\.minLength +8 {2}\[default\]$/m);
      expect(all.stdout).toContain('postgres://cas:********@db.example.org/cas');
      expect(all.stdout).not.toContain('Db-Secret-9');
      expect(runCli(['config', 'check', '--bogus'], env).status).toBe(2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('start runs the backends’ startup checks: a directory that is down is named and the server still starts', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-verdict-'));
    const configDir = path.join(root, 'config');
    mkdirSync(configDir);
    const backends = [{ type: 'internal' }, { type: 'ldap', name: 'corp', url: 'ldaps://127.0.0.1:1', bindDnTemplate: 'uid={{username}},dc=example,dc=org', connectTimeoutSeconds: 1 }];
    writeFileSync(path.join(configDir, 'portcullis.json'), JSON.stringify({ authentication: { backends } }));
    const server = new ServerProcess({ PORTCULLIS_CONFIG_DIR: configDir, PORTCULLIS_DATA_DIR: path.join(root, 'data'), PORTCULLIS_PORT: '0', PORTCULLIS_HOST: '127.0.0.1' });
    try {
      await server.waitFor(/warning: backend "corp" \(authentication\.backends\.1\) is unreachable now/);
      await server.waitFor(/listening on https:\/\/127\.0\.0\.1:\d+/);
    } finally {
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
