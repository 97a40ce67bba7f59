import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { CLI, ServerProcess, requireBuild, runCli } from '../support/process';
import { runInProcess, testCliContext } from '../support/cli';
import { UsageError } from '../../src/cli/command-table';
import { backupDatabase, inspectDatabase, restoreDatabase } from '../../src/storage/sqlite-backup';

function freshDirs(root: string, name: string) {
  const configDir = path.join(root, name, 'config');
  mkdirSync(configDir, { recursive: true });
  const dataDir = path.join(root, name, 'data');
  return { configDir, dataDir, env: { PORTCULLIS_PORT: '0', PORTCULLIS_HOST: '127.0.0.1', PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_CONFIG_DIR: configDir, PORTCULLIS_LOG_LEVEL: 'warn', PORTCULLIS_MFA_REQUIRE: 'never' } };
}

/** The CLI as its own process, without blocking this one (the load generator keeps running meanwhile). */
function runCliAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function startService(env: NodeJS.ProcessEnv, dataDir: string) {
  const server = new ServerProcess(env);
  const [, port] = await server.waitFor(/listening on https:\/\/127\.0\.0\.1:(\d+)\/cas\/login/);
  const cert = readFileSync(path.join(dataDir, 'tls', 'self-signed-cert.pem'), 'utf8');
  const base = `https://127.0.0.1:${port}`;
  return { server, agent: () => request.agent(base).ca(cert) };
}

type Agent = ReturnType<typeof request.agent>;

async function token(agent: Agent, username: string, password: string): Promise<request.Response> {
  return agent.post('/api/v1/tokens').send({ username, password });
}

async function browserLogin(agent: Agent, username: string, password: string): Promise<request.Response> {
  const page = await agent.get('/cas/login');
  const execution = /name="execution" value="([^"]+)"/.exec(page.text)?.[1] as string;
  return agent.post('/cas/login').type('form').send({ username, password, execution });
}

describe('portcullis backup / restore (real processes, embedded SQLite)', () => {
  beforeAll(requireBuild);
  const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-backup-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('backs up the running service under write load, refuses to restore over it, and a restore into a fresh data directory signs users in', async () => {
    const live = freshDirs(root, 'live');
    const backupFile = path.join(root, 'backups', 'portcullis-1.sqlite');
    mkdirSync(path.dirname(backupFile));
    const first = await startService(live.env, live.dataDir);
    let load: Promise<void> | undefined;
    try {
      const [, bootstrapPassword] = await first.server.waitFor(/one-time password: (\S+)/);
      const agent = first.agent();
      const initial = await token(agent, 'admin', bootstrapPassword);
      expect(initial.body.scope).toBe('password_change');
      await agent.post('/api/v1/me/password').set('Authorization', `Bearer ${initial.body.token}`).send({ currentPassword: bootstrapPassword, newPassword: 'Keeper-Of-Keys-9' });
      const adminToken = (await token(agent, 'admin', 'Keeper-Of-Keys-9')).body.token as string;
      const api = (method: 'get' | 'post', url: string) => agent[method](`/api/v1${url}`).set('Authorization', `Bearer ${adminToken}`);
      expect((await api('post', '/accounts').send({ username: 'alice', password: 'Wonder-Land-77' })).status).toBe(201);

      // Writers keep creating accounts while the backup runs in its own process.
      let stop = false;
      let written = 0;
      load = (async () => {
        while (!stop) {
          const res = await api('post', '/accounts').send({ username: `load${written}`, password: 'Steady-Writes-42' });
          expect(res.status).toBe(201);
          written++;
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      const backup = await runCliAsync(['backup', backupFile], live.env);
      stop = true;
      await load;
      expect([backup.status, backup.stderr]).toEqual([0, '']);
      const [, reported] = /backup written: .* \((\d+) bytes, (\d+) accounts/.exec(backup.stdout)?.slice(1) ?? [];
      expect(Number(reported)).toBeGreaterThan(0);
      expect(statSync(backupFile).mode & 0o777).toBe(0o600);
      const snapshot = inspectDatabase(backupFile);
      expect(snapshot.accounts).toBeGreaterThanOrEqual(2);
      expect(written).toBeGreaterThan(0);

      // The running database is not replaced under the service.
      const refused = runCli(['restore', backupFile], live.env);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('is in use (is Portcullis running?)');
      expect((await api('get', '/stats')).status).toBe(200);
      // Backups are never overwritten.
      const again = runCli(['backup', backupFile], live.env);
      expect(again.status).toBe(1);
      expect(again.stderr).toContain('already exists');
    } finally {
      await first.server.stop();
    }

    const restored = freshDirs(root, 'restored');
    const restore = runCli(['restore', backupFile], restored.env);
    expect([restore.status, restore.stderr]).toEqual([0, '']);
    expect(restore.stdout).toContain(`restored ${path.join(restored.dataDir, 'portcullis.sqlite')}`);
    const second = await startService(restored.env, restored.dataDir);
    try {
      // No new bootstrap administrator: the restored one is there.
      expect(second.server.output.join('\n')).not.toMatch(/one-time password/);
      const login = await browserLogin(second.agent(), 'alice', 'Wonder-Land-77');
      expect(login.status).toBe(200);
      expect(login.text).toContain('You are logged in');
      const adminToken = await token(second.agent(), 'admin', 'Keeper-Of-Keys-9');
      expect(adminToken.status).toBe(201);
      const stats = await second.agent().get('/api/v1/stats').set('Authorization', `Bearer ${adminToken.body.token}`);
      expect(stats.body.accounts.total).toBe(inspectDatabase(backupFile).accounts);
    } finally {
      await second.server.stop();
    }

    // Restoring over a stopped database keeps the replaced file.
    const over = runCli(['restore', backupFile], restored.env);
    expect(over.status).toBe(0);
    const kept = /kept as (\S+)/.exec(over.stdout)?.[1] as string;
    expect(existsSync(kept)).toBe(true);
    expect(inspectDatabase(kept).accounts).toBe(inspectDatabase(backupFile).accounts);
  });

  describe('refusals', () => {
    const dir = path.join(root, 'refusals');
    beforeAll(() => mkdirSync(dir, { recursive: true }));
    const io = { out: () => undefined, err: () => undefined, interactive: false };

    function portcullisDatabase(name: string): string {
      const dirs = freshDirs(dir, `${name}-src`);
      const file = path.join(dirs.dataDir, 'portcullis.sqlite');
      mkdirSync(dirs.dataDir, { recursive: true });
      const db = new Database(file);
      db.exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY); CREATE TABLE knex_migrations (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO knex_migrations (name) VALUES ('001_core')");
      db.close();
      return file;
    }

    it('refuses to restore files that are not an intact Portcullis database, or from a newer version', () => {
      const text = path.join(dir, 'notes.txt');
      writeFileSync(text, 'this is not a database, just some text long enough to look like something');
      const target = path.join(dir, 'target', 'portcullis.sqlite');
      expect(() => restoreDatabase(text, target)).toThrow(/not an SQLite database|cannot be opened/);
      const other = path.join(dir, 'other.sqlite');
      new Database(other).exec('CREATE TABLE t (x)');
      expect(() => restoreDatabase(other, target)).toThrow('is not a Portcullis database');
      const newer = portcullisDatabase('newer');
      new Database(newer).exec("INSERT INTO knex_migrations (name) VALUES ('999_future')");
      expect(() => restoreDatabase(newer, target)).toThrow('written by a newer Portcullis (unknown migrations: 999_future)');
      expect(() => restoreDatabase(path.join(dir, 'missing.sqlite'), target)).toThrow('There is no backup');
      expect(existsSync(target)).toBe(false);
    });

    it('refuses a damaged backup', () => {
      const good = portcullisDatabase('damaged');
      const damaged = path.join(dir, 'damaged.sqlite');
      copyFileSync(good, damaged);
      const bytes = readFileSync(damaged);
      bytes.fill(0xff, 100, 2000);
      writeFileSync(damaged, bytes);
      expect(() => inspectDatabase(damaged)).toThrow();
    });

    it('backs up only SQLite; other databases are pointed to their own tools', async () => {
      const dirs = freshDirs(dir, 'pg');
      const options = { configDir: dirs.configDir, dataDir: dirs.dataDir, env: {}, overrides: { database: { client: 'postgres' as const, url: 'postgres://db.example.test/portcullis' } } };
      await expect(runInProcess(['backup', path.join(dir, 'pg.sqlite')], testCliContext(options, io))).rejects.toThrow('Use pg_dump and pg_restore');
      await expect(runInProcess(['restore', path.join(dir, 'pg.sqlite')], testCliContext(options, io))).rejects.toThrow('Use pg_dump and pg_restore');
      expect(() => backupDatabase(path.join(dir, 'nothing.sqlite'), path.join(dir, 'out.sqlite'))).toThrow('There is no database');
      await expect(runInProcess(['backup'], testCliContext(options, io))).rejects.toThrow(UsageError);
    });
  });
});
