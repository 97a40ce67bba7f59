/**
 * Issue 17: one Active Directory person is one Portcullis account whatever
 * name form is typed (DOMAIN\sam, UPN, enterprise UPN suffix, sam@REALM,
 * bare sam, SPNEGO), with one lockout counter; malformed SPNEGO tokens are
 * 400 with the login form. Runs against the real Samba AD DC: the test adds
 * accounts whose userPrincipalName differs from sAMAccountName (as the AD
 * administrator, over LDAPS) and deletes them afterwards.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigInput } from '../../src/config/schema';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { callEndpoint, parseCasXml, registerService, ticketFromRedirect } from '../support/cas-helpers';
import { adWindowsBackend } from '../support/directory-config';
import { mergeAccounts } from '../../src/cli/user-merge';
import { directoryEnv } from '../support/directory-env';
import { kinit, negotiateToken } from '../support/directory-kerberos';

const ad = directoryEnv().ad;
const context = { clientIp: '127.0.0.1', userAgent: 'jest', channel: 'test' };
const run = randomBytes(3).toString('hex');
const PASSWORD = 'Passw0rd!Frank1';
/** sAMAccountName fgarcia…, UPN frank.garcia…@SAMDOM.TEST: the account. */
const frank = { sam: `fg${run}`, upn: `frank.garcia.${run}@${ad.realm}`, cn: `adid-frank-${run}`, mail: `frank.${run}@samdom.test` };
/** An enterprise UPN suffix, corp.example, in realm SAMDOM.TEST. */
const enterprise = { sam: `ent${run}`, upn: `ent.user.${run}@corp.example`, cn: `adid-ent-${run}`, mail: `ent.${run}@samdom.test` };
const dnOf = (cn: string) => `CN=${cn},${ad.usersDn}`;
const canonical = (sam: string) => `${sam}@${ad.realm}`;

/** ldapadd/ldapdelete as the AD administrator over LDAPS (the test DC is shared: only our own entries are touched). */
function ldapAsAdmin(tool: 'ldapadd' | 'ldapdelete', input: string, args: string[] = []): void {
  execFileSync(tool, ['-x', '-H', ad.ldapsUrl, '-D', ad.adminUpn, '-w', ad.adminPassword, ...args], {
    input,
    env: { PATH: process.env.PATH, LDAPTLS_CACERT: ad.caFile, LDAPTLS_REQCERT: 'demand' },
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 20_000,
  });
}

function addUser(user: typeof frank): void {
  const unicodePwd = Buffer.from(`"${PASSWORD}"`, 'utf16le').toString('base64');
  ldapAsAdmin(
    'ldapadd',
    [`dn: ${dnOf(user.cn)}`, 'objectClass: user', `sAMAccountName: ${user.sam}`, `userPrincipalName: ${user.upn}`, `mail: ${user.mail}`, `unicodePwd:: ${unicodePwd}`, 'userAccountControl: 512', ''].join('\n'),
  );
}

function withWindows(extra: ConfigInput = {}, backend: Record<string, unknown> = {}): Promise<TestContext> {
  return createTestContext({ overrides: { ...extra, authentication: { backends: [{ type: 'internal' }, adWindowsBackend({ realmAliases: ['corp.example'], ...backend })] as never } } });
}

beforeAll(() => {
  addUser(frank);
  addUser(enterprise);
});
afterAll(() => {
  ldapAsAdmin('ldapdelete', '', ['-c', dnOf(frank.cn), dnOf(enterprise.cn)]);
});

describe('every name form of one AD account is one Portcullis account', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await withWindows();
  });
  afterAll(() => ctx.close());

  test('UPN, lower-case UPN, DOMAIN\\sam, sam@REALM and the bare sam all sign in as sam@REALM, with the directory attributes', async () => {
    for (const name of [frank.upn, frank.upn.toLowerCase(), `${ad.domain}\\${frank.sam}`, canonical(frank.sam), frank.sam]) {
      const result = await ctx.services.loginService.login({ username: name, password: PASSWORD }, context);
      expect({ name, result }).toMatchObject({ name, result: { status: 'success', account: { username: canonical(frank.sam), source: 'windows', externalId: dnOf(frank.cn), email: frank.mail } } });
    }
    const { accounts } = await ctx.services.accounts.list({ source: 'windows' });
    expect(accounts.filter((a) => a.source === 'windows').map((a) => a.username)).toEqual([canonical(frank.sam)]);
  });

  test('an enterprise UPN suffix (user@corp.example in realm SAMDOM.TEST) reaches the same account as its sAMAccountName', async () => {
    const result = await ctx.services.loginService.login({ username: enterprise.upn, password: PASSWORD }, context);
    expect(result).toMatchObject({ status: 'success', account: { username: canonical(enterprise.sam), externalId: dnOf(enterprise.cn) } });
  });

  test('cas:user is the canonical name when the UPN was typed', async () => {
    const service = 'https://app.example.test/';
    await registerService(ctx, { serviceUrl: service });
    const ticket = ticketFromRedirect(await submitLogin(ctx.agent(), frank.upn, PASSWORD, { service }));
    const xml = parseCasXml((await callEndpoint(ctx, '/cas/p3/serviceValidate', { service, ticket })).text);
    expect(xml).toMatchObject({ 'cas:authenticationSuccess': { 'cas:user': canonical(frank.sam) } });
  });

  test('a SPNEGO ticket obtained with the UPN signs in as the canonical account', async () => {
    const ccache = await kinit(frank.upn, PASSWORD, ad.krb5Conf);
    const res = await ctx.agent().get('/cas/login').set('Authorization', `Negotiate ${await negotiateToken(ccache, ad.krb5Conf)}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(canonical(frank.sam));
    expect(await ctx.services.accounts.findByKey(frank.upn.toLowerCase())).toBeNull();
  });
});

/** kinit -E: the ticket names its client by the enterprise principal `upn\@suffix@REALM`, as Windows logons with a UPN do. */
function kinitEnterprise(upn: string, password: string): string {
  const ccache = `FILE:${path.join(mkdtempSync(path.join(os.tmpdir(), 'portcullis-kinit-')), 'ccache')}`;
  execFileSync('kinit', ['-E', '-c', ccache, upn], { input: `${password}\n`, env: { PATH: process.env.PATH, LC_ALL: 'C', KRB5_CONFIG: ad.krb5Conf }, stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
  return ccache;
}

test('a SPNEGO ticket for an enterprise principal (kinit -E with the UPN) signs in as the canonical account', async () => {
  const ctx = await withWindows();
  try {
    const res = await ctx.agent().get('/cas/login').set('Authorization', `Negotiate ${await negotiateToken(kinitEnterprise(enterprise.upn, PASSWORD), ad.krb5Conf)}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(canonical(enterprise.sam));
  } finally {
    await ctx.close();
  }
});

describe('lockout and account state belong to the canonical identity', () => {
  test('three wrong passwords spread over three name forms lock the account, for every form', async () => {
    const ctx = await withWindows({ lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 600 } });
    try {
      for (const name of [frank.upn, `${ad.domain}\\${frank.sam}`, canonical(frank.sam)]) {
        expect((await ctx.services.loginService.login({ username: name, password: 'Wrong-password-1' }, context)).status).toBe('invalid');
      }
      expect((await ctx.services.lockouts.get(canonical(frank.sam).toLowerCase())).failureCount).toBe(3);
      for (const name of [frank.upn, frank.sam, `${ad.domain}\\${frank.sam}`]) {
        expect((await ctx.services.loginService.login({ username: name, password: PASSWORD }, context)).status).toBe('locked');
      }
      const ccache = await kinit(frank.upn, PASSWORD, ad.krb5Conf);
      expect((await ctx.agent().get('/cas/login').set('Authorization', `Negotiate ${await negotiateToken(ccache, ad.krb5Conf)}`)).status).toBe(423);
    } finally {
      await ctx.close();
    }
  });

  test('a disabled canonical account refuses the UPN, the enterprise UPN and SPNEGO too', async () => {
    const ctx = await withWindows();
    try {
      for (const user of [frank, enterprise]) {
        expect((await ctx.services.loginService.login({ username: `${ad.domain}\\${user.sam}`, password: PASSWORD }, context)).status).toBe('success');
        const account = await ctx.services.accounts.findByKey(canonical(user.sam).toLowerCase());
        await ctx.services.accounts.update((account as { id: number }).id, { enabled: false }, Date.now());
        expect((await ctx.services.loginService.login({ username: user.upn, password: PASSWORD }, context)).status).toBe('disabled');
      }
      const ccache = await kinit(frank.upn, PASSWORD, ad.krb5Conf);
      const res = await ctx.agent().get('/cas/login').set('Authorization', `Negotiate ${await negotiateToken(ccache, ad.krb5Conf)}`);
      expect(res.status).toBe(403);
    } finally {
      await ctx.close();
    }
  });
});

describe('name resolution needs the directory', () => {
  test('directory unreachable: a UPN login fails closed (unavailable, not counted), by form and by SPNEGO', async () => {
    const down = adWindowsBackend({ realmAliases: ['corp.example'] }) as { directory: Record<string, unknown> };
    const ctx = await createTestContext({
      overrides: { authentication: { backends: [{ type: 'internal' }, { ...down, directory: { ...down.directory, url: 'ldaps://127.0.0.1:1', connectTimeoutSeconds: 1 } }] as never } },
    });
    try {
      expect(await ctx.services.loginService.login({ username: frank.upn, password: 'Wrong-password-1' }, context)).toMatchObject({ status: 'unavailable', dependency: 'directory' });
      expect((await ctx.services.lockouts.get(frank.upn.toLowerCase())).failureCount).toBe(0);
      const ccache = await kinit(frank.upn, PASSWORD, ad.krb5Conf);
      expect((await ctx.agent().get('/cas/login').set('Authorization', `Negotiate ${await negotiateToken(ccache, ad.krb5Conf)}`)).status).toBe(503);
      const { events } = await ctx.services.audit.query({ event: 'login', limit: 1 });
      expect(events[0]).toMatchObject({ outcome: 'failure', username: frank.upn, details: { reason: 'unavailable', channel: 'spnego' } });
    } finally {
      await ctx.close();
    }
  });
});

describe('a duplicate account from before the fix', () => {
  test('no longer receives sign-ins, and user merge folds it into the canonical account', async () => {
    const ctx = await withWindows();
    try {
      const now = Date.now();
      await ctx.services.accounts.insert({ username: frank.upn, usernameKey: frank.upn.toLowerCase(), role: 'user', source: 'windows' }, now);
      expect(await ctx.services.loginService.login({ username: frank.upn, password: PASSWORD }, context)).toMatchObject({ status: 'success', account: { username: canonical(frank.sam) } });
      const report = await mergeAccounts(ctx.services, frank.upn, canonical(frank.sam), { name: 'cli' });
      expect(report).toMatchObject({ from: frank.upn, into: canonical(frank.sam) });
      expect(await ctx.services.accounts.findByKey(frank.upn.toLowerCase())).toBeNull();
    } finally {
      await ctx.close();
    }
  });
});

describe('SPNEGO: malformed tokens are 400 with the login form; refused tickets stay 401', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await withWindows();
  });
  afterAll(() => ctx.close());

  const spnegoOid = [0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
  test.each([
    ['base64 that is no GSS token', Buffer.from('hello world, this is not a token').toString('base64')],
    ['a GSS header whose length is wrong', 'YIIBAAAA'],
    ['a SPNEGO header with a corrupt body', Buffer.from([0x60, 0x0c, ...spnegoOid, 0xa0, 0x02, 0x30, 0x00]).toString('base64')],
  ])('%s → 400, the form in the body, audited as negotiate_malformed', async (_label, token) => {
    const res = await ctx.agent().get('/cas/login').set('Authorization', `Negotiate ${token}`);
    expect(res.status).toBe(400);
    expect(res.text).toContain('name="password"');
    expect(res.text).toContain('malformed Negotiate');
    const { events } = await ctx.services.audit.query({ event: 'login', limit: 1 });
    expect(events[0]).toMatchObject({ outcome: 'failure', details: { reason: 'negotiate_malformed', channel: 'spnego' } });
  });

  test('a well-formed Kerberos token that is refused (a replay) is 401 with the form', async () => {
    const token = await negotiateToken(await kinit(canonical(frank.sam), PASSWORD, ad.krb5Conf), ad.krb5Conf);
    expect((await ctx.agent().get('/cas/login').set('Authorization', `Negotiate ${token}`)).status).toBe(200);
    const replay = await ctx.agent().get('/cas/login').set('Authorization', `Negotiate ${token}`);
    expect(replay.status).toBe(401);
    expect(replay.text).toContain('name="password"');
  });
});
