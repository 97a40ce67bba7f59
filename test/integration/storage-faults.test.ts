import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import knexFactory from 'knex';
import request from 'supertest';
import { storageFault } from '../../src/storage/storage-faults';
import { startOpsServer } from '../../src/ops/ops-server';
import { healthDeps } from '../../src/app';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { ADMIN_PASSWORD, signIn } from '../support/admin-api';
import { callEndpoint, loginForTicket, registerService } from '../support/cas-helpers';

const PASSWORD = 'Correct-Horse-7';
const SERVICE = 'https://app.example.org/cb';

/** Real driver errors from better-sqlite3, raised by real faults (no mocks). */
describe('storageFault (the one classifier)', () => {
  const file = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'portcullis-faults-')), 'x.sqlite');

  it('classifies a full database (max_page_count reached) as disk full', () => {
    const db = new Database(file());
    db.exec('create table t (v text)');
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
    const insert = db.prepare('insert into t values (?)');
    let caught: unknown;
    for (let i = 0; i < 10_000 && !caught; i++) {
      try {
        insert.run('x'.repeat(500));
      } catch (error) {
        caught = error;
      }
    }
    expect(storageFault(caught)).toEqual({ kind: 'disk_full', reason: 'the database cannot be written: disk full' });
  });

  it('classifies a read-only database and a write lock held past the busy timeout', () => {
    const name = file();
    const writer = new Database(name);
    writer.exec('create table t (v text)');
    const readOnly = new Database(name, { readonly: true });
    expect(() => readOnly.exec("insert into t values ('x')")).toThrow();
    try {
      readOnly.exec("insert into t values ('x')");
    } catch (error) {
      expect(storageFault(error)?.kind).toBe('read_only');
    }
    writer.exec('begin immediate');
    const other = new Database(name, { timeout: 0 });
    try {
      other.exec("insert into t values ('y')");
      throw new Error('the write lock was not held');
    } catch (error) {
      expect(storageFault(error)).toEqual({ kind: 'busy', reason: 'the database is busy: another process holds its write lock' });
    }
    writer.exec('rollback');
  });

  it("maps PostgreSQL's disk-full, read-only and shutdown states, and leaves bugs alone", () => {
    expect(storageFault({ code: '53100', message: 'could not extend file' })?.reason).toBe('the database cannot be written: disk full');
    expect(storageFault({ code: '25006', message: 'cannot execute UPDATE in a read-only transaction' })?.kind).toBe('read_only');
    expect(storageFault({ code: '57P01', message: 'terminating connection due to administrator command' })?.reason).toBe('the database cannot be reached: its server is shutting down or starting up');
    expect(storageFault({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' })?.reason).toBe('the database cannot be reached');
    expect(storageFault(new Error('wrapped', { cause: { code: 'SQLITE_IOERR_WRITE' } }))?.kind).toBe('io_error');
    expect(storageFault({ code: '42601', message: 'syntax error' })).toBeNull();
    expect(storageFault({ code: 'SQLITE_CONSTRAINT_UNIQUE' })).toBeNull();
    expect(storageFault(new TypeError('x is undefined'))).toBeNull();
  });
});

/**
 * Makes the database refuse writes, as a read-only file system or a hot standby would:
 * SQLite's query_only on its single connection; on PostgreSQL the database's default, which
 * new connections pick up (the pool is reopened; the switch itself overrides the default).
 */
async function setReadOnly(ctx: TestContext, on: boolean): Promise<void> {
  const knex = ctx.services.db.knex;
  if (ctx.services.db.dialect === 'sqlite') {
    await knex.raw(`pragma query_only = ${on ? 'on' : 'off'}`);
    return;
  }
  const url = ctx.services.config.database.url!;
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = knexFactory({ client: 'pg', connection: { connectionString: url, options: '-c default_transaction_read_only=off' }, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`alter database "${name}" set default_transaction_read_only = ${on ? 'on' : 'off'}`);
  } finally {
    await admin.destroy();
  }
  await knex.destroy();
  knex.initialize();
}

describe('read-only storage: 503 with the reason on every way in, readiness follows writes', () => {
  let ctx: TestContext;
  afterEach(() => ctx.close());

  it('login page, REST, CAS validation (INTERNAL_ERROR), problem+json and /health/ready; all back once writable', async () => {
    const logLines: string[] = [];
    ctx = await createTestContext({ fileDatabase: true, logLines });
    await ctx.addUser('alice', PASSWORD);
    await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin' });
    const admin = await signIn(ctx, 'root', ADMIN_PASSWORD);
    await registerService(ctx, { serviceUrl: SERVICE });
    const ticket = await loginForTicket(ctx.agent(), SERVICE, 'alice', PASSWORD);
    const ops = await startOpsServer({ ...healthDeps(ctx.services), logger: ctx.services.logger }, '127.0.0.1', 0, false);
    try {
      expect((await request(ops.url).get('/health/ready')).status).toBe(200);
      await setReadOnly(ctx, true);
      const reason = 'the database cannot be written: its storage is read-only';

      const ready = await request(ops.url).get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.database.error).toContain(reason);

      const page = await submitLogin(ctx.agent(), 'alice', PASSWORD);
      expect(page.status).toBe(503);
      expect(page.text).toContain(`Sign-in is unavailable: ${reason}.`);

      const rest = await request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form').send({ username: 'alice', password: PASSWORD });
      expect(rest.status).toBe(503);
      expect(rest.text.toLowerCase()).toContain(reason);

      const validation = await callEndpoint(ctx, '/cas/p3/serviceValidate', { ticket, service: SERVICE });
      expect(validation.status).toBe(503);
      expect(validation.text).toContain('code="INTERNAL_ERROR"');
      expect(validation.text.toLowerCase()).toContain(reason);

      const created = await admin.post('/accounts', { username: 'carol', role: 'user' });
      expect(created.status).toBe(503);
      expect(created.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(created.body.detail).toBe('The database cannot be written: its storage is read-only; try again later.');

      // Logged with the reason, once per request, without a stack trace.
      const faults = logLines.map((l) => JSON.parse(l) as { event?: string; reason?: string }).filter((l) => l.event === 'unavailable');
      expect(faults.length).toBeGreaterThanOrEqual(2);
      expect(faults.every((l) => l.reason === reason)).toBe(true);
      expect(logLines.join('\n')).not.toMatch(/\\n\s+at /);

      await setReadOnly(ctx, false);
      expect((await request(ops.url).get('/health/ready')).status).toBe(200);
      expect((await admin.post('/accounts', { username: 'carol', role: 'user' })).status).toBe(201);
      expect((await submitLogin(ctx.agent(), 'alice', PASSWORD)).text).toContain('You are logged in');
    } finally {
      await ops.close();
    }
  });
});

describe('a full SQLite database (max_page_count reached, then raised)', () => {
  let ctx: TestContext;
  afterEach(() => ctx.close());

  /** Repeats a write until it answers 503 (pages with room left still take rows). */
  async function untilRefused(write: () => Promise<request.Response>): Promise<request.Response> {
    for (let i = 0; i < 400; i++) {
      const res = await write();
      if (res.status === 503) return res;
    }
    throw new Error('the database never filled up');
  }

  it('answers 503 "disk full" on the login page, REST and the API, and works again once there is room', async () => {
    // max_page_count is SQLite's; PostgreSQL's disk full (53100) goes through the same classifier (above).
    ctx = await createTestContext({ fileDatabase: true, sqliteOnly: true });
    await ctx.addUser('alice', PASSWORD);
    await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin' });
    const admin = await signIn(ctx, 'root', ADMIN_PASSWORD);
    const knex = ctx.services.db.knex;
    const [{ page_count: pages }] = (await knex.raw('pragma page_count')) as { page_count: number }[];
    await knex.raw(`pragma max_page_count = ${pages}`);
    const reason = 'the database cannot be written: disk full';

    let n = 0;
    const api = await untilRefused(() => admin.post('/accounts', { username: `user${n++}`, role: 'user', description: 'x'.repeat(200) }));
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(api.body.detail).toBe('The database cannot be written: disk full; try again later.');
    const rest = await untilRefused(() => request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form').send({ username: 'alice', password: PASSWORD }));
    expect(rest.text.toLowerCase()).toContain(reason);
    const page = await untilRefused(() => submitLogin(ctx.agent(), 'alice', PASSWORD));
    expect(page.text.toLowerCase()).toContain(reason);
    expect(page.text).not.toContain('Something went wrong');

    await knex.raw('pragma max_page_count = 1073741823');
    expect((await request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form').send({ username: 'alice', password: PASSWORD })).status).toBe(201);
    expect((await admin.post('/accounts', { username: 'after', role: 'user' })).status).toBe(201);
  });
});
