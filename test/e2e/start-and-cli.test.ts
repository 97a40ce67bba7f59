import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { ServerProcess, requireBuild, runCli } from '../support/process';

function freshDirs() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-e2e-'));
  const configDir = path.join(root, 'config');
  mkdirSync(configDir);
  return { root, configDir, dataDir: path.join(root, 'data') };
}

function readAllFiles(dir: string): Buffer {
  const parts: Buffer[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) parts.push(readFileSync(path.join(entry.parentPath, entry.name)));
  }
  return Buffer.concat(parts);
}

describe('portcullis start (real process, embedded default)', () => {
  beforeAll(requireBuild);
  const dirs = freshDirs();
  const env = { PORTCULLIS_PORT: '0', PORTCULLIS_HOST: '127.0.0.1', PORTCULLIS_DATA_DIR: dirs.dataDir, PORTCULLIS_CONFIG_DIR: dirs.configDir };

  it('starts on SQLite with a self-signed certificate and a bootstrap administrator, survives a restart, and reloads policy on SIGHUP', async () => {
    const first = new ServerProcess(env);
    try {
      const [, port] = await first.waitFor(/listening on https:\/\/127\.0\.0\.1:(\d+)\/cas\/login/);
      const [, password] = await first.waitFor(/one-time password: (\S+)/);
      const [, fingerprint] = await first.waitFor(/SHA-256 fingerprint: ([0-9A-F:]{95})/);
      await first.waitFor(/database: sqlite .*portcullis\.sqlite/);
      await first.waitFor(/config files: \(none in/);
      const cert = readFileSync(path.join(dirs.dataDir, 'tls', 'self-signed-cert.pem'), 'utf8');
      const base = `https://127.0.0.1:${port}`;

      // The one-time password is printed once for the operator: never in a log line, never stored in clear.
      await first.waitFor(/"event":"started"/);
      const logLines = first.output.filter((l) => l.startsWith('{'));
      expect(logLines.length).toBeGreaterThan(0);
      expect(logLines.join('\n')).not.toContain(password);
      expect(readAllFiles(dirs.dataDir).includes(Buffer.from(password))).toBe(false);

      // TLS 1.2+ only, with the generated certificate.
      const agent = request.agent(base).ca(cert);
      const page = await agent.get('/cas/login');
      expect(page.status).toBe(200);
      const execution = /name="execution" value="([^"]+)"/.exec(page.text)![1];
      const login = await agent.post('/cas/login').type('form').send({ username: 'admin', password, execution });
      const token = /name="token" value="([^"]+)"/.exec(login.text)![1];
      const changed = await agent.post('/cas/password').type('form').send({ token, password: 'Fresh-Chief-Pass-3', confirm: 'Fresh-Chief-Pass-3' });
      expect(changed.text).toContain('You are logged in');
      const tgc = (changed.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('TGC='))!.split(';')[0];

      // Policy reload on SIGHUP.
      writeFileSync(path.join(dirs.configDir, 'private.config'), '<configuration><appSettings><add key="MaxAllowedLoginFailureCount" value="7"/></appSettings></configuration>');
      first.child.kill('SIGHUP');
      await first.waitFor(/"event":"policy_reloaded".*"maxAllowedLoginFailureCount":7/);

      expect(await first.stop('SIGTERM')).toBe(0);

      const second = new ServerProcess(env);
      try {
        const [, port2] = await second.waitFor(/listening on https:\/\/127\.0\.0\.1:(\d+)/);
        await second.waitFor(new RegExp(`fingerprint: ${fingerprint}`));
        expect(second.output.join('\n')).not.toContain('one-time password');
        expect(second.output.join('\n')).toContain('private.config');
        const again = await request(`https://127.0.0.1:${port2}`).get('/cas/login').ca(cert).set('cookie', tgc);
        expect(again.text).toContain('You are logged in');
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
    }
  });
});

describe('portcullis CLI', () => {
  beforeAll(requireBuild);
  const dirs = freshDirs();
  const env = { PORTCULLIS_DATA_DIR: dirs.dataDir, PORTCULLIS_CONFIG_DIR: dirs.configDir };

  it('migrates, adds users, changes passwords, unlocks and lists', () => {
    expect(runCli(['migrate'], env).stdout).toMatch(/applied: 001_core|up to date/);
    const add = runCli(['user', 'add', 'bob', '--password-stdin'], env, 'Kiwi-Secret-42\n');
    expect(add.status).toBe(0);
    expect(add.stdout).toContain('created bob (role user)');
    expect(runCli(['user', 'add', 'root', '--role', 'admin', '--password-stdin'], env, 'Tangerine-Secret-42\n').status).toBe(0);
    const duplicate = runCli(['user', 'add', 'BOB', '--password-stdin'], env, 'Kiwi-Secret-43\n');
    expect(duplicate.status).toBe(1);
    expect(duplicate.stderr.trim()).toBe('portcullis: An account named "BOB" already exists.');
    const weak = runCli(['user', 'passwd', 'bob', '--password-stdin'], env, 'bob\n');
    expect(weak.status).toBe(1);
    expect(weak.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(weak.stderr).toContain('at least 8 characters');
    expect(runCli(['user', 'passwd', 'bob', '--password-stdin'], env, 'Kiwi-Other-Secret-7\n').stdout).toContain('password changed for bob');
    expect(runCli(['user', 'unlock', 'bob'], env).stdout).toContain('unlocked bob');
    expect(runCli(['user', 'disable', 'bob'], env).stdout).toContain('disabled bob');
    expect(runCli(['user', 'list'], env).stdout).toMatch(/^bob\trole=user\tsource=internal\tdisabled$/m);
    expect(runCli(['user', 'enable', 'bob'], env).stdout).toContain('enabled bob');
    const lastAdmin = runCli(['user', 'disable', 'root'], env);
    expect(lastAdmin.status).toBe(1);
    expect(lastAdmin.stderr).toContain('last enabled administrator');
    const list = runCli(['user', 'list'], env).stdout;
    expect(list).toMatch(/^bob\trole=user\tsource=internal\tenabled$/m);
    expect(list).toMatch(/^root\trole=admin/m);
  });

  it('fails with one clear line and a non-zero exit on bad commands and bad config', () => {
    const unknown = runCli(['frobnicate'], env);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(runCli(['user', 'passwd', 'nobody', '--password-stdin'], env, 'Whatever-Pass-1\n').stderr.trim()).toBe('portcullis: No account named "nobody".');
    writeFileSync(path.join(dirs.configDir, 'private.config'), '<configuration><appSettings><add key="UserLockoutTimeout" value="soon"/></appSettings></configuration>');
    const check = runCli(['config', 'check'], env);
    expect(check.status).toBe(1);
    expect(check.stderr).toContain(`${path.join(dirs.configDir, 'private.config')}: key "UserLockoutTimeout" needs a whole number value`);
    writeFileSync(path.join(dirs.configDir, 'private.config'), '<configuration><appSettings><add key="UserLockoutTimeout" value="120"/></appSettings></configuration>');
    const ok = runCli(['config', 'check'], env);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout.slice(ok.stdout.indexOf('{'))).lockout).toEqual({ maxAllowedLoginFailureCount: 3, userLockoutTimeout: 120 });
  });
});
