/**
 * DNs holding RFC 4514 special characters, against the real slapd and Samba
 * AD: the backend binds with the DN exactly as the directory returned it, so
 * escapes survive (issue 17: `uid=back\5Cslash` was re-serialised to
 * `uid=back\slash` and refused). And LDAP results are classified: a bind
 * refused with anything but a transport failure is a failed attempt of that
 * login (counted, audited with the LDAP code), never "directory unavailable".
 * The entries are added by the test (as the directory's administrator) and
 * removed afterwards, so the shared servers need no restart.
 */
import { readFileSync } from 'node:fs';
import { Attribute, Client, NoSuchObjectError } from 'ldapts';
import type { LdapBackend } from '../../src/authn/ldap/ldap-backend';
import { escapeDnValue } from '../../src/authn/ldap/ldap-filter';
import { usernameKey } from '../../src/shared/username';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { secretFile, slapdBackend } from '../support/directory-config';
import { directoryEnv } from '../support/directory-env';

const env = directoryEnv();
const context = { clientIp: '127.0.0.1', userAgent: 'jest', channel: 'test' };

/** Each RFC 4514 special in the position that needs it, and non-ASCII. */
const SPECIALS: [string, string][] = [
  ['backslash', 'back\\slash'],
  ['comma', 'com,ma'],
  ['plus', 'plus+sign'],
  ['double quote', 'quo"te'],
  ['less-than', 'less<than'],
  ['greater-than', 'greater>than'],
  ['semicolon', 'semi;colon'],
  ['equals', 'equals=sign'],
  ['leading #', '#hash'],
  ['leading space', ' leading space'],
  ['trailing space', 'trailing space '],
  ['non-ASCII', 'Jürgen Müller 名前'],
];

function withBackends(backends: unknown[], extra: Record<string, unknown> = {}): Promise<TestContext> {
  return createTestContext({ overrides: { ...extra, authentication: { backends: backends as never } } });
}

async function adminClient(url: string, caFile: string, dn: string, password: string): Promise<Client> {
  const client = new Client({ url, tlsOptions: { ca: [readFileSync(caFile)] } });
  await client.bind(dn, password);
  return client;
}

async function removeIfPresent(client: Client, dn: string): Promise<void> {
  try {
    await client.del(dn);
  } catch (error) {
    if (!(error instanceof NoSuchObjectError)) throw error;
  }
}

/** The DN of the single entry matching `filter`, exactly as the directory sends it. */
async function returnedDn(client: Client, base: string, filter: string): Promise<string> {
  const { searchEntries } = await client.search(base, { scope: 'sub', filter, attributes: ['1.1'] });
  expect(searchEntries).toHaveLength(1);
  return searchEntries[0].dn;
}

async function lastLoginAudit(ctx: TestContext, username: string) {
  const { events } = await ctx.services.audit.query({ event: 'login', username, limit: 1 });
  return events[0];
}

describe('slapd: DNs with RFC 4514 specials and non-ASCII sign in', () => {
  const ldap = env.ldap;
  const people = SPECIALS.map(([label, cn], i) => ({ label, cn, uid: `dnesc-${i}`, password: `dn-escape-pass-${i}`, dn: `cn=${escapeDnValue(cn)},${ldap.peopleDn}`, returned: '' }));
  // The issue's own case: the special sits in the uid, which is the RDN.
  const backslashUid = { uid: 'back\\slash', password: 'backslash-pass', dn: `uid=back\\5Cslash,${ldap.peopleDn}`, returned: '' };
  let admin: Client;

  beforeAll(async () => {
    admin = await adminClient(ldap.ldapsUrl, ldap.caFile, ldap.adminDn, ldap.adminPassword);
    for (const p of [...people, backslashUid]) await removeIfPresent(admin, p.dn);
    for (const p of people) {
      await admin.add(p.dn, { objectClass: ['inetOrgPerson'], cn: p.cn, sn: 'Special', uid: p.uid, userPassword: p.password });
      p.returned = await returnedDn(admin, ldap.peopleDn, `(uid=${p.uid})`);
    }
    await admin.add(backslashUid.dn, { objectClass: ['inetOrgPerson'], cn: 'Back Slash', sn: 'Slash', uid: backslashUid.uid, userPassword: backslashUid.password });
    backslashUid.returned = await returnedDn(admin, ldap.peopleDn, '(uid=back\\5cslash)');
  });
  afterAll(async () => {
    for (const p of [...people, backslashUid]) await removeIfPresent(admin, p.dn);
    await admin.unbind();
  });

  test('the issue\'s uid=back\\5Cslash signs in through the login form, bound with the DN slapd returned', async () => {
    expect(backslashUid.returned).toMatch(/^uid=back\\5[Cc]slash,/);
    const ctx = await withBackends([slapdBackend()]);
    try {
      const res = await submitLogin(ctx.agent(), backslashUid.uid, backslashUid.password);
      expect(res.status).toBe(200);
      expect(await ctx.services.accounts.findByKey(usernameKey(backslashUid.uid))).toMatchObject({ source: 'ldap', externalId: backslashUid.returned });
    } finally {
      await ctx.close();
    }
  });

  test.each(people.map((p) => [p.label, p] as const))('search-then-bind: %s in the DN', async (_label, p) => {
    const ctx = await withBackends([slapdBackend()]);
    try {
      const ok = await ctx.services.loginService.login({ username: p.uid, password: p.password }, context);
      expect(ok).toMatchObject({ status: 'success', principal: { externalId: p.returned } });
      // A wrong password for the same DN is an ordinary, counted refusal.
      expect((await ctx.services.loginService.login({ username: p.uid, password: 'not-the-password' }, context)).status).toBe('invalid');
      expect((await ctx.services.lockouts.get(usernameKey(p.uid))).failureCount).toBe(1);
    } finally {
      await ctx.close();
    }
  });

  test('direct bind: each special, typed as the name, is escaped into the DN template and binds', async () => {
    const ctx = await withBackends([slapdBackend({ serviceAccount: undefined, searchBase: undefined, bindDnTemplate: `cn={{username}},${ldap.peopleDn}` })]);
    try {
      const backend = ctx.services.backends.find((b) => b.name === 'ldap') as LdapBackend;
      for (const p of people) {
        expect({ label: p.label, outcome: await backend.authenticate({ username: p.cn, password: p.password }) }).toMatchObject({ label: p.label, outcome: { ok: true } });
      }
    } finally {
      await ctx.close();
    }
  });

  test('a bind refused with invalidDNSyntax (34) is a counted failure of that attempt, audited with the code — not "unavailable"', async () => {
    // A template without structure sends the typed name as the bind DN: slapd answers 34 for a name that is no DN.
    const ctx = await withBackends([slapdBackend({ serviceAccount: undefined, searchBase: undefined, bindDnTemplate: '{{username}}' })], { lockout: { maxAllowedLoginFailureCount: 2, userLockoutTimeout: 600 } });
    try {
      const first = await submitLogin(ctx.agent(), 'not-a-dn', 'whatever-1');
      expect(first.status).toBe(401);
      expect(first.text).toContain('Invalid username or password.');
      expect(await lastLoginAudit(ctx, 'not-a-dn')).toMatchObject({ outcome: 'failure', backend: 'ldap', details: { reason: 'bad_credentials', ldapResult: { code: 34, name: 'invalidDNSyntax' } } });
      expect((await ctx.services.lockouts.get('not-a-dn')).failureCount).toBe(1);
      // Counted like a wrong password: the limit locks the name, so it cannot be tried without limit.
      expect((await submitLogin(ctx.agent(), 'not-a-dn', 'whatever-2')).status).toBe(401);
      expect((await submitLogin(ctx.agent(), 'not-a-dn', 'whatever-3')).status).toBe(423);
    } finally {
      await ctx.close();
    }
  });
});

describe('Samba AD: DNs with RFC 4514 specials and non-ASCII sign in through the LDAP backend', () => {
  const ad = env.ad;
  const people = SPECIALS.map(([label, cn], i) => ({ label, cn, sam: `dnesc${i}`, password: `Dn-Escape-Pass!${i}`, dn: `CN=${escapeDnValue(cn)},${ad.usersDn}`, returned: '' }));
  let admin: Client;

  beforeAll(async () => {
    admin = await adminClient(ad.ldapsUrl, ad.caFile, ad.adminUpn, ad.adminPassword);
    for (const p of people) await removeIfPresent(admin, p.dn);
    for (const p of people) {
      // AD sets a password only as the quoted UTF-16LE string in unicodePwd, over TLS; 512 = a normal, enabled account.
      const unicodePwd = new Attribute({ type: 'unicodePwd', values: [Buffer.from(`"${p.password}"`, 'utf16le')] });
      await admin.add(p.dn, [
        new Attribute({ type: 'objectClass', values: ['user'] }),
        new Attribute({ type: 'sAMAccountName', values: [p.sam] }),
        new Attribute({ type: 'userPrincipalName', values: [`${p.sam}@${ad.realm}`] }),
        unicodePwd,
        new Attribute({ type: 'userAccountControl', values: ['512'] }),
      ]);
      p.returned = await returnedDn(admin, ad.usersDn, `(sAMAccountName=${p.sam})`);
    }
  });
  afterAll(async () => {
    for (const p of people) await removeIfPresent(admin, p.dn);
    await admin.unbind();
  });

  test.each(people.map((p) => [p.label, p] as const))('search-then-bind: %s in the DN', async (_label, p) => {
    const ctx = await withBackends([
      {
        type: 'ldap',
        name: 'ad-ldap',
        url: ad.ldapsUrl,
        caFile: ad.caFile,
        serviceAccount: { dn: ad.bindUpn, passwordFile: secretFile(ad.bindPassword, 0o600) },
        searchBase: ad.baseDn,
        searchFilter: '(sAMAccountName={{username}})',
      },
    ]);
    try {
      expect(await ctx.services.loginService.login({ username: p.sam, password: p.password }, context)).toMatchObject({ status: 'success', principal: { externalId: p.returned } });
      expect((await ctx.services.loginService.login({ username: p.sam, password: 'Wrong-password-1' }, context)).status).toBe('invalid');
    } finally {
      await ctx.close();
    }
  });
});
