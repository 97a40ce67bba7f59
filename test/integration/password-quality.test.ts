import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { ADMIN_PASSWORD, signIn } from '../support/admin-api';
import { importLegacyFile } from '../../src/jobs/legacy-import';
import { KnexLegacyImportStore } from '../../src/storage/legacy-import-store';
import { FilterBuilder, sha1, writeFilterAtomically } from '../../src/policy/breached-filter';
import { PolicyError } from '../../src/shared/errors';

/** Strong by every other rule, but "breached": it is in the test filter. */
const BREACHED = 'Quiet-Meadow-Lantern-7';
const STRONG = 'Velvet-Orchard-Compass-52';
const md5 = (password: string) => createHash('md5').update(password, 'utf8').digest('hex');

let dir: string;
let filterFile: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'password-quality-'));
  filterFile = path.join(dir, 'breached.filter');
  const builder = new FilterBuilder(2, 1e-6);
  for (const p of [BREACHED, 'Another-Leaked-Secret-3']) builder.add(sha1(p));
  const { header, bits } = builder.finish('test corpus', new Date('2026-03-04T00:00:00Z'));
  writeFilterAtomically(header, bits, filterFile);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('password quality on every way in', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { password: { breachedFilterFile: filterFile } } });
    await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin' });
  });
  afterEach(() => ctx.close());

  it('API: a breached or weak password is refused with problem+json rules and the estimator feedback', async () => {
    const admin = await signIn(ctx, 'root', ADMIN_PASSWORD);
    const breached = await admin.post('/accounts', { username: 'bob', password: BREACHED });
    expect(breached.status).toBe(422);
    expect(breached.body.rules).toEqual(['breached']);
    expect(breached.body.errors).toEqual([{ rule: 'breached', message: 'has appeared in a data breach' }]);
    const weak = await admin.post('/accounts', { username: 'bob', password: 'Passw0rd2024!' });
    expect(weak.status).toBe(422);
    expect(weak.body.rules).toEqual(['min_strength']);
    expect(weak.body.errors[0].feedback).toMatchObject({ score: expect.any(Number), suggestions: expect.arrayContaining([expect.any(String)]) });
    expect(weak.body.detail).toMatch(/^The password is too easy to guess \(strength [0-2] of 4, at least 3 needed\): /);
    expect((await admin.post('/accounts', { username: 'bob', password: STRONG })).status).toBe(201);
  });

  it('API: GET /policy shows the filter in force (source, date, entries, size)', async () => {
    const admin = await signIn(ctx, 'root', ADMIN_PASSWORD);
    const policy = (await admin.get('/policy')).body;
    expect(policy.breachedFilter).toMatchObject({ file: filterFile, source: 'test corpus', createdAt: '2026-03-04T00:00:00.000Z', entries: 2, fpRate: 1e-6 });
    expect(policy.password.minStrengthScore).toEqual({ value: 3, source: 'default' });
  });

  it('login page: the password-change form lists the breached and strength rules alongside the others', async () => {
    await ctx.addUser('carol', STRONG, { mustChangePassword: true });
    const agent = ctx.agent();
    const page = await submitLogin(agent, 'carol', STRONG);
    const token = /name="token" value="([^"]+)"/.exec(page.text)?.[1] as string;
    const refused = await agent.post('/cas/password').type('form').send({ token, password: BREACHED, confirm: BREACHED });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('It has appeared in a data breach.');
    const weak = await agent.post('/cas/password').type('form').send({ token, password: 'carol2024', confirm: 'carol2024' });
    expect(weak.text).toContain('It must not contain the username.');
    expect(weak.text).toMatch(/It is too easy to guess \(strength [0-2] of 4, at least 3 needed\): [^<]+\./);
  });

  it('CLI path (AccountService.setPassword): the one-line refusal names every broken rule with the feedback', async () => {
    await ctx.addUser('dave', STRONG);
    const dave = await ctx.services.accountService.requireByUsername('dave');
    const refusal = ctx.services.accountService.setPassword(dave, 'Dave-2024', { mustChange: false, actor: { name: 'cli' } });
    await expect(refusal).rejects.toThrow(PolicyError);
    await expect(refusal).rejects.toThrow(/^The password must not contain the username; is too easy to guess \(strength [0-2] of 4, at least 3 needed\)/);
  });
});

describe('stale passwords at sign-in (legacy NEC MD5 accounts included)', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { password: { breachedFilterFile: filterFile } } });
  });
  afterEach(() => ctx.close());

  async function importMd5(rows: [string, string][]): Promise<void> {
    const file = path.join(dir, `export-${process.pid}.csv`);
    writeFileSync(file, ['username,md5', ...rows.map(([name, password]) => `${name},${md5(password)}`)].join('\n'));
    await importLegacyFile({ store: new KnexLegacyImportStore(ctx.services.db.knex), policy: ctx.services.policy, clock: ctx.clock }, file);
  }

  it.each([
    ['in the breached filter', BREACHED, ['breached']],
    ['on the shipped blocklist', 'Password123!', ['blocklisted', 'min_strength']],
  ])('an MD5 account whose password is %s signs in, is re-hashed, and must change it before any ticket', async (_what, password, rules) => {
    await importMd5([['erin', password], ['frank', STRONG]]);
    const rest = await ctx.agent().post('/cas/v1/tickets').type('form').send({ username: 'erin', password });
    expect(rest.status).toBe(403);
    const erin = await ctx.services.accountService.requireByUsername('erin');
    expect(erin.passwordHash).toMatch(/^\$argon2id\$/);
    expect(erin.mustChangePassword).toBe(true);
    const audit = await ctx.services.audit.query({ event: 'password_policy_stale', username: 'erin' });
    expect(audit.events.map((e) => e.details)).toEqual([{ rules, channel: 'rest' }]);

    const agent = ctx.agent();
    const page = await submitLogin(agent, 'erin', password);
    expect(page.status).toBe(200);
    const token = /name="token" value="([^"]+)"/.exec(page.text)?.[1] as string;
    expect(page.headers['set-cookie'] ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^TGC=[^;]/)]));
    const changed = await agent.post('/cas/password').type('form').send({ token, password: 'Granite-Willow-Beacon-64', confirm: 'Granite-Willow-Beacon-64' });
    expect(changed.text).toContain('You are logged in');
    expect((await ctx.services.accountService.requireByUsername('erin')).mustChangePassword).toBe(false);

    // A legacy password that passes today's policy signs straight in.
    expect((await ctx.agent().post('/cas/v1/tickets').type('form').send({ username: 'frank', password: STRONG })).status).toBe(201);
    expect((await ctx.services.accountService.requireByUsername('frank')).mustChangePassword).toBe(false);
  });
});

describe('start-up with the filter', () => {
  it('refuses to start with a corrupt filter file, naming it', async () => {
    const corrupt = path.join(dir, 'corrupt.filter');
    writeFileSync(corrupt, 'PCBLOOM1 this is not a filter');
    await expect(createTestContext({ overrides: { password: { breachedFilterFile: corrupt } } })).rejects.toThrow(`breached-password filter ${corrupt}: corrupt or truncated header`);
  });
});
