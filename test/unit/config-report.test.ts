import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { configReport } from '../../src/cli/config-report';

/** Issue 16: `config check --all` prints every effective setting with its source, secrets masked. */
describe('configReport', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-report-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('lists every setting with the layer it came from, and masks passwords', () => {
    const configDir = path.join(root, 'config');
    mkdirSync(configDir);
    const json = path.join(configDir, 'portcullis.json');
    writeFileSync(json, JSON.stringify({ database: { client: 'postgres', url: 'postgres://cas:S3cret-Db-Pass@db.example.org/cas' }, lockout: { userLockoutTimeout: 600 } }));
    writeFileSync(path.join(configDir, 'private.config'), '<configuration><appSettings><add key="MaxAllowedLoginFailureCount" value="5"/></appSettings></configuration>');
    const loaded = loadConfig({ configDir, dataDir: path.join(root, 'data'), env: { PORTCULLIS_PORT: '9443' } });
    const lines = configReport(loaded);
    const line = (key: string) => lines.find((l) => l.startsWith(`${key} `));
    expect(line('server.port')).toMatch(/ 9443 {2}\[env PORTCULLIS_PORT\]$/);
    expect(line('lockout.maxAllowedLoginFailureCount')).toMatch(/ 5 {2}\[.*private\.config\]$/);
    expect(line('lockout.userLockoutTimeout')).toMatch(new RegExp(` 600 {2}\\[${json}\\]$`));
    expect(line('password.minLength')).toMatch(/ 8 {2}\[default\]$/);
    expect(line('database.url')).toContain('"postgres://cas:********@db.example.org/cas"');
    expect(lines.join('\n')).not.toContain('S3cret-Db-Pass');
    for (const section of ['server.tls.minVersion', 'tickets.tgtIdleTimeoutSeconds', 'cas.singleLogout.enabled', 'ops.metrics', 'argon2.memoryCost', 'authentication.backends']) expect(line(section)).toBeDefined();
  });
});
