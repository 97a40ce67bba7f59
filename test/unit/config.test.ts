import { mkdtempSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, readSecretFile } from '../../src/config/load';
import { ConfigError } from '../../src/shared/errors';
import { parsePrivateConfig } from '../../src/config/private-config';

function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-config-'));
  mkdirSync(path.join(dir, 'config'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, 'config', name), text);
  return path.join(dir, 'config');
}

const necPrivateConfig = (max: string, timeout: string) => `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <appSettings>
    <add key="MaxAllowedLoginFailureCount" value="${max}"/>
    <add key="UserLockoutTimeout" value="${timeout}"/>
  </appSettings>
</configuration>`;

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration loading', () => {
  it('uses NEC-compatible defaults when no file exists', () => {
    const loaded = loadConfig({ configDir: configDir({}), env: {} });
    expect(loaded.config.lockout).toEqual({ maxAllowedLoginFailureCount: 3, userLockoutTimeout: 900 });
    expect(loaded.config.administrators.maxAdministratorCount).toBe(2);
    expect(loaded.config.server.port).toBe(8443);
    expect(loaded.config.argon2).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(loaded.files).toEqual([]);
  });

  it("reads NEC's private.config <add key value/> format", () => {
    const dir = configDir({ 'private.config': necPrivateConfig('5', '60') });
    const loaded = loadConfig({ configDir: dir, env: {} });
    expect(loaded.config.lockout).toEqual({ maxAllowedLoginFailureCount: 5, userLockoutTimeout: 60 });
    expect(loaded.sources['lockout.userLockoutTimeout']).toBe(path.join(dir, 'private.config'));
  });

  it('applies precedence defaults < portcullis.json < private.config < environment', () => {
    const dir = configDir({
      'portcullis.json': JSON.stringify({ lockout: { maxAllowedLoginFailureCount: 7, userLockoutTimeout: 70 }, administrators: { maxAdministratorCount: 3 } }),
      'private.config': necPrivateConfig('4', '40'),
    });
    const fromFiles = loadConfig({ configDir: dir, env: {} });
    expect(fromFiles.config.lockout).toEqual({ maxAllowedLoginFailureCount: 4, userLockoutTimeout: 40 });
    expect(fromFiles.config.administrators.maxAdministratorCount).toBe(3);
    expect(fromFiles.sources['administrators.maxAdministratorCount']).toBe(path.join(dir, 'portcullis.json'));
    const fromEnv = loadConfig({ configDir: dir, env: { PORTCULLIS_USER_LOCKOUT_TIMEOUT: '11', PORTCULLIS_PORT: '9443' } });
    expect(fromEnv.config.lockout).toEqual({ maxAllowedLoginFailureCount: 4, userLockoutTimeout: 11 });
    expect(fromEnv.config.server.port).toBe(9443);
    expect(fromEnv.sources['lockout.userLockoutTimeout']).toBe('env PORTCULLIS_USER_LOCKOUT_TIMEOUT');
  });

  it('rejects unknown keys, naming the key and the file', () => {
    const dir = configDir({ 'portcullis.json': JSON.stringify({ lockout: { maxAllowedLoginFailureCont: 3 } }) });
    const problems = problemsOf(() => loadConfig({ configDir: dir, env: {} }));
    expect(problems).toEqual([`${path.join(dir, 'portcullis.json')}: unknown key "lockout.maxAllowedLoginFailureCont"`]);
  });

  it('rejects invalid values with the file and key named, reporting every problem at once', () => {
    const dir = configDir({
      'portcullis.json': JSON.stringify({ server: { port: 'high' }, password: { minLength: 2 } }),
      'private.config': necPrivateConfig('three', '900'),
    });
    const problems = problemsOf(() => loadConfig({ configDir: dir, env: {} })).join('\n');
    expect(problems).toContain(`${path.join(dir, 'private.config')}: key "MaxAllowedLoginFailureCount" needs a whole number value, got "three"`);
    expect(problems).toContain(`${path.join(dir, 'portcullis.json')}: server.port`);
    expect(problems).toContain(`${path.join(dir, 'portcullis.json')}: password.minLength`);
  });

  it('has connection timeouts and a per-client cap, validated with the file and key named', () => {
    expect(loadConfig({ configDir: configDir({}), env: {} }).config.server).toMatchObject({ headersTimeoutSeconds: 20, requestTimeoutSeconds: 30, keepAliveTimeoutSeconds: 5, maxConnectionsPerClient: 50 });
    const dir = configDir({ 'portcullis.json': JSON.stringify({ server: { headersTimeoutSeconds: 40, requestTimeoutSeconds: 30, keepAliveTimeoutSeconds: 0, maxConnectionsPerClient: -1 } }) });
    const problems = problemsOf(() => loadConfig({ configDir: dir, env: {} })).join('\n');
    for (const key of ['server.keepAliveTimeoutSeconds', 'server.maxConnectionsPerClient']) expect(problems).toContain(`${path.join(dir, 'portcullis.json')}: ${key}`);
    const crossed = configDir({ 'portcullis.json': JSON.stringify({ server: { headersTimeoutSeconds: 40, requestTimeoutSeconds: 30 } }) });
    expect(problemsOf(() => loadConfig({ configDir: crossed, env: {} })).join('\n')).toContain('server.headersTimeoutSeconds');
  });

  it('rejects unknown PORTCULLIS_ environment variables and non-numeric numbers', () => {
    const problems = problemsOf(() => loadConfig({ configDir: configDir({}), env: { PORTCULLIS_PROT: '1', PORTCULLIS_PORT: 'x' } })).join('\n');
    expect(problems).toContain('unknown variable PORTCULLIS_PROT');
    expect(problems).toContain('PORTCULLIS_PORT must be a whole number');
  });

  it('derives the database client from DATABASE_URL', () => {
    const loaded = loadConfig({ configDir: configDir({}), env: { DATABASE_URL: 'postgres://u@h/db' } });
    expect(loaded.config.database.client).toBe('postgres');
  });

  it('refuses world-readable secret files', () => {
    const dir = configDir({ secret: 'pw\n' });
    const file = path.join(dir, 'secret');
    chmodSync(file, 0o644);
    expect(() => readSecretFile(file)).toThrow(/world-readable/);
    chmodSync(file, 0o600);
    expect(readSecretFile(file)).toBe('pw');
  });

  it('strips exactly one trailing newline (LF or CRLF) from a secret file, nothing else', () => {
    const read = (content: string) => {
      const file = path.join(configDir({ secret: content }), 'secret');
      chmodSync(file, 0o600);
      return readSecretFile(file);
    };
    expect([read('pw\r\n'), read('pw\n\n'), read(' pw \n'), read('pw')]).toEqual(['pw', 'pw\n', ' pw ', 'pw']);
  });
});

describe('private.config parser', () => {
  it('reports malformed XML with the file name', () => {
    const { problems } = parsePrivateConfig('<configuration><appSettings><add key="X"', 'private.config');
    expect(problems[0]).toMatch(/^private\.config: malformed XML/);
  });

  it('refuses DOCTYPE (no entity expansion)', () => {
    const { problems } = parsePrivateConfig('<!DOCTYPE x [<!ENTITY a "b">]><configuration/>', 'p.config');
    expect(problems[0]).toContain('DOCTYPE');
  });

  it('reports unknown and duplicate keys', () => {
    const { problems } = parsePrivateConfig(
      '<configuration><appSettings><add key="Nope" value="1"/><add key="UserLockoutTimeout" value="1"/><add key="UserLockoutTimeout" value="2"/></appSettings></configuration>',
      'p.config',
    );
    expect(problems).toEqual(['p.config: unknown key "Nope" (known: MaxAllowedLoginFailureCount, UserLockoutTimeout, MaxAdministratorCount, InactiveAccountDisableDays, PasswordMinLength, PasswordMaxAgeDays, PasswordHistorySize, PasswordMinStrengthScore)', 'p.config: key "UserLockoutTimeout" is set more than once']);
  });
});
