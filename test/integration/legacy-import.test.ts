import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { ApiClient, signIn } from '../support/admin-api';
import { csvRecords, importLegacyFile } from '../../src/jobs/legacy-import';
import { KnexLegacyImportStore } from '../../src/storage/legacy-import-store';
import { runInProcess, testCliContext } from '../support/cli';
import { InputError } from '../../src/shared/errors';

const md5 = (password: string) => createHash('md5').update(password, 'utf8').digest('hex');

async function records(text: string, chunkSize = 3) {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += chunkSize) chunks.push(text.slice(i, i + chunkSize));
  const out: { line: number; fields: string[] }[] = [];
  for await (const record of csvRecords(Readable.from(chunks))) out.push(record);
  return out;
}

describe('CSV reading', () => {
  it('handles quotes, doubled quotes, commas and line breaks in fields, CRLF, a BOM, and chunk boundaries anywhere', async () => {
    const text = '\ufeffusername,display_name\r\n"o\'brien","O\'Brien, ""Pat"""\r\nzoe,"two\nlines"\nlast,x';
    for (const size of [1, 2, 3, 7, 1000]) {
      expect(await records(text, size)).toEqual([
        { line: 1, fields: ['username', 'display_name'] },
        { line: 2, fields: ["o'brien", 'O\'Brien, "Pat"'] },
        { line: 3, fields: ['zoe', 'two\nlines'] },
        { line: 5, fields: ['last', 'x'] },
      ]);
    }
  });

  it('refuses broken quoting with the line number', async () => {
    await expect(records('a,b\nx,"open\n')).rejects.toThrow('line 2: a quoted field is not closed');
    await expect(records('a,b\nx,y"z\n')).rejects.toThrow('line 2: a quote inside an unquoted field');
    await expect(records('a,b\nx,"y"z\n')).rejects.toThrow('line 2: unexpected character after a closing quote');
  });

  it('numbers lines across CRLF, LF and lone CR breaks, inside quoted fields too, and keeps blank lines as empty records', async () => {
    expect(await records('a,b\r\nx,"y\r\nz"\r\nq,"1\r2"\rr,s\n\n"t",u', 2)).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x', 'y\r\nz'] },
      { line: 4, fields: ['q', '1\r2'] },
      { line: 6, fields: ['r', 's'] },
      { line: 7, fields: [''] },
      { line: 8, fields: ['t', 'u'] },
    ]);
  });

  it('passes a read error on, and closes the source when the reader stops early', async () => {
    async function* failing() {
      yield 'a,b\n';
      throw new Error('disk gone');
    }
    const readAll = async () => {
      for await (const record of csvRecords(failing())) void record;
    };
    await expect(readAll()).rejects.toThrow('disk gone');
    let closed = false;
    async function* endless() {
      try {
        for (;;) yield 'x,y\n';
      } finally {
        closed = true;
      }
    }
    for await (const record of csvRecords(endless())) if (record.line === 3) break;
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(true);
  });
});

describe('portcullis import-legacy', () => {
  let ctx: TestContext;
  let dir: string;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { administrators: { maxAdministratorCount: 2 } } });
    dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-import-'));
  });
  afterEach(async () => {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deps = () => ({ store: new KnexLegacyImportStore(ctx.services.db.knex), policy: ctx.services.policy, clock: ctx.clock });
  function csv(name: string, text: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  it('imports accounts with the header in any order; they sign in with their NEC password and get re-hashed', async () => {
    const file = csv(
      'export.csv',
      [
        'Enabled,E-Mail,MD5,Display Name,Role,UserName',
        `true,anna@example.test,${md5('Anna-Legacy-1').toUpperCase()},"Anna, A.",user,anna`,
        `0,ben@example.test,${md5('Ben-Legacy-1')},Ben,user,ben`,
        `yes,,${md5('Quartz-Harbor-Lamp-81')},,administrator,chief`,
      ].join('\r\n'),
    );
    const report = await importLegacyFile(deps(), file, { fileLabel: 'export.csv' });
    expect(report).toMatchObject({ rows: 3, imported: 3, skipped: [], overAdministratorLimit: [], invalid: [] });
    const anna = await ctx.services.accountService.requireByUsername('anna');
    expect(anna).toMatchObject({ displayName: 'Anna, A.', email: 'anna@example.test', role: 'user', enabled: true, source: 'internal', passwordHash: md5('Anna-Legacy-1') });
    expect((await ctx.services.accountService.requireByUsername('ben')).enabled).toBe(false);
    expect((await ctx.services.accountService.requireByUsername('chief')).role).toBe('admin');
    expect(await ctx.services.accounts.countLegacyHashes()).toBe(3);
    expect((await submitLogin(ctx.agent(), 'anna', 'Anna-Legacy-1')).status).toBe(200);
    expect((await ctx.services.accountService.requireByUsername('anna')).passwordHash).toMatch(/^\$argon2id\$/);
    const chief = await signIn(ctx, 'chief', 'Quartz-Harbor-Lamp-81');
    expect((await chief.get('/stats')).body.legacyMd5Hashes).toBe(1);
    const audit = await ctx.services.audit.query({ event: 'account_imported', username: 'anna' });
    expect(audit.events[0]).toMatchObject({ actor: 'cli', details: { source: 'nec_cas_csv', file: 'export.csv', line: 2 } });
    expect(JSON.stringify((await ctx.services.audit.query({ limit: 100 })).events)).not.toContain(md5('Anna-Legacy-1'));
  });

  it('is idempotent: a second run skips every row and changes nothing', async () => {
    const file = csv('export.csv', `username,md5\nanna,${md5('a')}\nben,${md5('b')}\n`);
    expect((await importLegacyFile(deps(), file)).imported).toBe(2);
    const before = await ctx.services.db.knex('accounts').orderBy('id').select('*');
    const second = await importLegacyFile(deps(), file);
    expect(second.imported).toBe(0);
    expect(second.skipped).toEqual([
      { line: 2, username: 'anna', reason: 'an account with this name already exists' },
      { line: 3, username: 'ben', reason: 'an account with this name already exists' },
    ]);
    expect(await ctx.services.db.knex('accounts').orderBy('id').select('*')).toEqual(before);
  });

  it('never overwrites an existing account (same name in any case)', async () => {
    await ctx.addUser('Anna', 'Current-Pass-1');
    const file = csv('export.csv', `username,md5\nANNA,${md5('old')}\n`);
    const report = await importLegacyFile(deps(), file);
    expect(report.skipped).toHaveLength(1);
    expect((await submitLogin(ctx.agent(), 'anna', 'Current-Pass-1')).status).toBe(200);
  });

  it('refuses invalid rows with their line numbers and imports nothing (unless --skip-invalid)', async () => {
    const file = csv(
      'bad.csv',
      [
        'username,md5,role,enabled,email',
        `good,${md5('x')},user,true,`,
        `short,abc123,user,true,`,
        `"bad\u0001name",${md5('x')},user,true,`,
        `toomany,${md5('x')},user,true,,extra`,
        `weird,${md5('x')},root,maybe,not-an-address`,
        `GOOD,${md5('y')},user,true,`,
        `nohash,,user,true,`,
      ].join('\n'),
    );
    const report = await importLegacyFile(deps(), file);
    expect(report.imported).toBe(0);
    expect(report.invalid).toEqual([
      { line: 3, message: 'invalid MD5 hash (expected 32 hexadecimal digits)' },
      { line: 4, message: 'invalid username: Username contains control characters.' },
      { line: 5, message: 'expected 5 fields, found 6' },
      { line: 6, message: 'invalid e-mail address "not-an-address"; invalid role "root" (user or admin); invalid enabled value "maybe" (true or false)' },
      { line: 7, message: 'username "GOOD" already appears on line 2' },
      { line: 8, message: 'missing MD5 hash' },
    ]);
    expect(await ctx.services.accounts.findByKey('good')).toBeNull();
    const lenient = await importLegacyFile(deps(), file, { skipInvalid: true });
    expect(lenient.imported).toBe(1);
    expect(await ctx.services.accounts.findByKey('good')).not.toBeNull();
  });

  it('refuses unknown, duplicate and missing columns in the header', async () => {
    await expect(importLegacyFile(deps(), csv('a.csv', 'username,md5,salary\n'))).rejects.toThrow(InputError);
    await expect(importLegacyFile(deps(), csv('b.csv', 'username,md5,salary\n'))).rejects.toThrow('unknown column "salary"');
    await expect(importLegacyFile(deps(), csv('c.csv', 'user,login,md5\n'))).rejects.toThrow('column username appears twice');
    await expect(importLegacyFile(deps(), csv('d.csv', 'username,email\n'))).rejects.toThrow('no md5 column');
    await expect(importLegacyFile(deps(), csv('e.csv', ''))).rejects.toThrow('The file is empty');
  });

  it('imports administrators only into free MaxAdministratorCount slots and reports the rest', async () => {
    await ctx.addUser('root', 'Admin-Pass-2024', { role: 'admin' });
    const file = csv('admins.csv', `username,md5,role\nboss1,${md5('a')},admin\nboss2,${md5('b')},admin\nboss3,${md5('c')},admin\nworker,${md5('d')},user\n`);
    // The dry run (reads only, batches of one to carry the free slots across batches) predicts the real run exactly.
    const predicted = await importLegacyFile(deps(), file, { dryRun: true, batchSize: 1 });
    expect(await ctx.services.accounts.countAdministrators(false)).toBe(1);
    const report = await importLegacyFile(deps(), file);
    expect(report.imported).toBe(2);
    expect(report.overAdministratorLimit).toEqual([
      { line: 3, username: 'boss2' },
      { line: 4, username: 'boss3' },
    ]);
    expect([predicted.imported, predicted.skipped, predicted.overAdministratorLimit]).toEqual([report.imported, report.skipped, report.overAdministratorLimit]);
    expect(await ctx.services.accounts.countAdministrators(false)).toBe(2);
  });

  it('runs from the CLI: progress bar on a terminal, summary, exit code 1 for refused files, dry run', async () => {
    const configDir = path.join(dir, 'config');
    const dataDir = path.join(dir, 'data');
    const options = { configDir, dataDir, env: {}, overrides: { logging: { level: 'silent' as const } } };
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), interactive: true };
    const run = (args: string[]) => runInProcess(['import-legacy', ...args], testCliContext(options, io));
    const good = csv('good.csv', `username,md5\nanna,${md5('Anna-Legacy-1')}\nben,${md5('b')}\n`);
    await expect(run([good])).rejects.toThrow(/^no database at .*portcullis\.sqlite/);
    expect(await runInProcess(['migrate'], testCliContext(options, io))).toBe(0);
    out.length = 0;
    expect(await run([good, '--dry-run'])).toBe(0);
    expect(out.join('')).toContain('dry run: 2 rows read, nothing written');
    out.length = 0;
    expect(await run([good])).toBe(0);
    expect(out.join('')).toMatch(/imported: 2\nskipped \(already exist\): 0\nwould exceed the administrator limit \(MaxAdministratorCount 2\), not imported: 0\n2 rows in [\d.]+ s \(\d+ rows\/s\)/);
    expect(err.join('')).toMatch(/importing \[#+\] 2\/2 rows/);
    out.length = 0;
    expect(await run([good])).toBe(0);
    expect(out.join('')).toContain('imported: 0\nskipped (already exist): 2\n  line 2 "anna"');
    out.length = 0;
    const bad = csv('bad.csv', 'username,md5\ncarl,nothex\n');
    expect(await run([bad])).toBe(1);
    expect(out.join('')).toContain('invalid rows: 1\n  line 2: invalid MD5 hash');
    await expect(run([])).rejects.toThrow('import-legacy expects FILE');
    await expect(run([good, '--force'])).rejects.toThrow('unknown option --force');
  });

  it('dry run predicts the rows the administrator limit refuses; the real run refuses the same rows and exits 1', async () => {
    const options = { configDir: path.join(dir, 'config'), dataDir: path.join(dir, 'data'), env: {}, overrides: { logging: { level: 'silent' as const } } };
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: () => undefined, interactive: false };
    const run = (args: string[]) => runInProcess(['import-legacy', ...args], testCliContext(options, io));
    expect(await runInProcess(['migrate'], testCliContext(options, io))).toBe(0);
    const rows = ['boss1', 'boss2', 'boss3'].map((name) => `${name},${md5(name)},admin`).join('\n');
    const file = csv('admins.csv', `username,md5,role\nexisting,${md5('e')},user\n${rows}\n`);
    expect(await run([file, '--dry-run'])).toBe(1);
    expect(out.join('')).toContain('dry run: 4 rows read, nothing written; the import would give:\nimported: 3\n');
    expect(out.join('')).toContain('not imported: 1\n  line 5 "boss3"');
    expect(await ctx.services.accounts.countAdministrators(false)).toBe(0);
    out.length = 0;
    expect(await run([file])).toBe(1);
    expect(out.join('')).toContain('imported: 3\n');
    expect(out.join('')).toContain('not imported: 1\n  line 5 "boss3"');
  });

  it('does not draw progress when stderr is not a terminal', async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (t: string) => err.push(t), interactive: false };
    const options = { configDir: path.join(dir, 'config'), dataDir: path.join(dir, 'data'), env: {}, overrides: { logging: { level: 'silent' as const } } };
    expect(await runInProcess(['migrate'], testCliContext(options, io))).toBe(0);
    expect(await runInProcess(['import-legacy', csv('x.csv', `username,md5\nx,${md5('x')}\n`)], testCliContext(options, io))).toBe(0);
    expect(err).toEqual([]);
  });

  it('lets an imported user sign in through the API and change the password', async () => {
    await importLegacyFile(deps(), csv('one.csv', `username,md5\nanna,${md5('Anna-Legacy-1')}\n`));
    const anna = await signIn(ctx, 'anna', 'Anna-Legacy-1');
    expect((await anna.post('/me/password', { currentPassword: 'Anna-Legacy-1', newPassword: 'Modern-Secret-2025' })).status).toBe(204);
    expect((await new ApiClient(ctx).post('/tokens', { username: 'anna', password: 'Anna-Legacy-1' })).status).toBe(401);
  });
});
