/**
 * Windows sign-in against the real Samba AD DC (realm SAMDOM.TEST) started by
 * scripts/test-servers/up.sh: Kerberos password checks verified with the
 * HTTP/localhost keytab, AD account states, SPNEGO with a ticket from kinit,
 * and AD through the LDAP backend (UPN bind over LDAPS, StartTLS).
 * Kerberos settings are process-wide: all Samba/Kerberos tests live here.
 */
import { Passport } from 'passport';
import type { ConfigInput } from '../../src/config/schema';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { adWindowsBackend, secretFile } from '../support/directory-config';
import { directoryEnv } from '../support/directory-env';
import { kinit, negotiateToken } from '../support/directory-kerberos';

const env = directoryEnv();
const ad = env.ad;
const context = { clientIp: '127.0.0.1', userAgent: 'jest', channel: 'test' };

function withBackends(backends: unknown[], extra: ConfigInput = {}): Promise<TestContext> {
  return createTestContext({ overrides: { ...extra, authentication: { backends: backends as never } } });
}

async function lastLoginAudit(ctx: TestContext, username?: string) {
  const { events } = await ctx.services.audit.query({ event: 'login', ...(username ? { username } : {}), limit: 1 });
  return events[0];
}

const principalOf = (user: string) => `${user}@${ad.realm}`;

describe('Windows backend: Kerberos password check against the Samba AD KDC', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await withBackends([{ type: 'internal' }, adWindowsBackend()]);
  });
  afterAll(() => ctx.close());

  test('DOMAIN\\user with the right password signs in; the account is user@REALM with AD attributes', async () => {
    const res = await submitLogin(ctx.agent(), `${ad.domain}\\alice`, ad.users.alice.password);
    expect(res.status).toBe(200);
    const account = await ctx.services.accounts.findByKey(principalOf('alice').toLowerCase());
    expect(account).toMatchObject({ username: principalOf('alice'), source: 'windows', passwordHash: null, externalId: ad.users.alice.dn, email: 'alice@samdom.test' });
    expect(await lastLoginAudit(ctx, principalOf('alice'))).toMatchObject({ outcome: 'success', backend: 'windows' });
    const result = await ctx.services.loginService.login({ username: `${ad.domain}\\alice`, password: ad.users.alice.password }, context);
    expect(result.status === 'success' && result.principal.attributes.memberOf).toEqual(expect.arrayContaining([ad.appUsersGroupDn]));
  });

  test('user@realm (any case) and a bare name reach the same account', async () => {
    for (const name of [principalOf('alice'), 'alice@samdom.test', 'alice']) {
      const result = await ctx.services.loginService.login({ username: name, password: ad.users.alice.password }, context);
      expect(result).toMatchObject({ status: 'success', account: { username: principalOf('alice'), source: 'windows' } });
    }
  });

  test('wrong password: invalid, counted against user@REALM whichever form was typed', async () => {
    const res = await submitLogin(ctx.agent(), `${ad.domain}\\bob`, 'Wrong-password-1');
    expect(res.status).toBe(401);
    expect(await lastLoginAudit(ctx, principalOf('bob'))).toMatchObject({ outcome: 'failure', backend: 'windows', details: { reason: 'bad_credentials' } });
    expect((await ctx.services.lockouts.get(principalOf('bob').toLowerCase())).failureCount).toBe(1);
    expect((await ctx.services.loginService.login({ username: 'bob@samdom.test', password: 'Wrong-password-2' }, context)).status).toBe('invalid');
    expect((await ctx.services.lockouts.get(principalOf('bob').toLowerCase())).failureCount).toBe(2);
  });

  test('unknown user: the same "invalid" answer, audited as unknown_user', async () => {
    const res = await submitLogin(ctx.agent(), `${ad.domain}\\nosuchuser`, 'Whatever-1');
    expect(res.status).toBe(401);
    expect(await lastLoginAudit(ctx, principalOf('nosuchuser'))).toMatchObject({ details: { reason: 'unknown_user' } });
  });

  test.each([
    ['disabled1', 'account_disabled', 'This account is disabled in the directory.'],
    ['expired1', 'account_expired', 'This account has expired.'],
    ['mustchange1', 'password_must_change', 'Your directory requires you to change your password.'],
  ])('AD state of %s (right password) → %s with a clear message', async (user, reason, message) => {
    const res = await submitLogin(ctx.agent(), `${ad.domain}\\${user}`, ad.users[user].password);
    expect(res.status).toBe(403);
    expect(res.text).toContain(message);
    expect(await lastLoginAudit(ctx, principalOf(user))).toMatchObject({ outcome: 'failure', backend: 'windows', details: { reason } });
  });

  test('AD states are never revealed to a wrong password', async () => {
    for (const user of ['disabled1', 'expired1', 'mustchange1']) {
      const res = await submitLogin(ctx.agent(), `${ad.domain}\\${user}`, 'Not-the-password-1');
      expect(res.status).toBe(401);
      expect(res.text).toContain('Invalid username or password.');
    }
  });

  test('a member of the mapped AD group becomes admin', async () => {
    expect(await ctx.services.loginService.login({ username: `${ad.domain}\\carol`, password: ad.users.carol.password }, context)).toMatchObject({ status: 'success', account: { role: 'admin' } });
  });

  test('bad input: unconfigured domain, malformed names → clear 400 refusals before any backend is asked, audited', async () => {
    const other = await submitLogin(ctx.agent(), 'OTHERDOM\\alice', ad.users.alice.password);
    expect(other.status).toBe(400);
    expect(other.text).toMatch(/The domain (&quot;|&#34;)OTHERDOM(&quot;|&#34;) is not one this service signs in\. Use SAMDOM\\name or name@SAMDOM\.TEST\./);
    expect(await lastLoginAudit(ctx, 'OTHERDOM\\alice')).toMatchObject({ outcome: 'failure', details: { reason: 'invalid_input' } });
    for (const name of [`${ad.domain}\\a/b`, `${ad.domain}\\`, `${ad.domain}\\*)(uid=*`, `${ad.domain}\\x\\y`, `${ad.domain}\\${'a'.repeat(150)}`]) {
      const res = await submitLogin(ctx.agent(), name, 'Whatever-1');
      expect(res.status).toBe(400);
      expect(res.text).toContain('not a valid Windows sign-in name');
      expect(await lastLoginAudit(ctx, name)).toMatchObject({ outcome: 'failure', details: { reason: 'invalid_input' } });
    }
  });

  test('an e-mail-like name in another realm is not claimed by Windows (other backends may answer)', async () => {
    expect((await ctx.services.loginService.login({ username: 'alice@example.com', password: 'Whatever-1' }, context)).status).toBe('invalid');
    expect(await lastLoginAudit(ctx, 'alice@example.com')).toMatchObject({ details: { reason: 'unknown_user' } });
  });
});

describe('Windows backend without a directory lookup', () => {
  test('the password check works; KDC "revoked" maps to a generic disabled state', async () => {
    const ctx = await withBackends([adWindowsBackend({ directory: undefined, groupRoles: {}, spnego: false })]);
    try {
      expect(await ctx.services.loginService.login({ username: `${ad.domain}\\bob`, password: ad.users.bob.password }, context)).toMatchObject({ status: 'success', principal: { attributes: {} } });
      expect(await ctx.services.loginService.login({ username: `${ad.domain}\\expired1`, password: ad.users.expired1.password }, context)).toEqual({ status: 'account_state', reason: 'account_disabled' });
      expect(await ctx.services.loginService.login({ username: `${ad.domain}\\mustchange1`, password: ad.users.mustchange1.password }, context)).toEqual({ status: 'account_state', reason: 'password_must_change' });
    } finally {
      await ctx.close();
    }
  });

  test("a KDC answer that cannot be verified with our keytab is refused (spoofed-KDC protection): unavailable, not success", async () => {
    // The MIT realm's keytab holds no key for HTTP/localhost@SAMDOM.TEST, exactly like a KDC that is not the real one.
    const ctx = await withBackends([adWindowsBackend({ directory: undefined, groupRoles: {}, spnego: false, keytab: env.mitKdc.keytab })]);
    try {
      const result = await ctx.services.loginService.login({ username: `${ad.domain}\\bob`, password: ad.users.bob.password }, context);
      expect(result).toMatchObject({ status: 'unavailable', dependency: 'directory' });
      expect(result.status === 'unavailable' && result.message).toContain('could not be verified with the keytab');
      expect((await ctx.services.lockouts.get(principalOf('bob').toLowerCase())).failureCount).toBe(0);
    } finally {
      await ctx.close();
    }
  });
});

describe('SPNEGO (integrated Windows sign-in) on /cas/login', () => {
  let ctx: TestContext;
  let aliceCcache: string;
  beforeAll(async () => {
    ctx = await withBackends([{ type: 'internal' }, adWindowsBackend()], { lockout: { maxAllowedLoginFailureCount: 2, userLockoutTimeout: 600 } });
    aliceCcache = await kinit(principalOf('alice'), ad.users.alice.password, ad.krb5Conf);
  });
  afterAll(() => ctx.close());

  test('without credentials: 401, WWW-Authenticate: Negotiate, and the login form as body (fallback)', async () => {
    const res = await ctx.agent().get('/cas/login');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Negotiate');
    expect(res.text).toContain('name="execution"');
  });

  test('a full exchange with a ticket from kinit signs alice in, through the same provisioning and audit', async () => {
    const token = await negotiateToken(aliceCcache, ad.krb5Conf);
    const agent = ctx.agent();
    const res = await agent.get('/cas/login').set('Authorization', `Negotiate ${token}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(principalOf('alice'));
    expect(String(res.headers['set-cookie'])).toContain('TGC=');
    expect(await lastLoginAudit(ctx, principalOf('alice'))).toMatchObject({ outcome: 'success', backend: 'windows', details: { channel: 'spnego' } });
    expect(await ctx.services.accounts.findByKey(principalOf('alice').toLowerCase())).toMatchObject({ source: 'windows', externalId: ad.users.alice.dn });
    // The SSO session now answers without another negotiation.
    const again = await agent.get('/cas/login');
    expect(again.status).toBe(200);
  });

  test("both the challenge and the token go through passport's negotiate strategy, which reads the header", async () => {
    const authenticate = jest.spyOn(Passport.prototype, 'authenticate');
    try {
      expect((await ctx.agent().get('/cas/login')).status).toBe(401);
      const res = await ctx.agent().get('/cas/login').set('Authorization', `Negotiate ${await negotiateToken(aliceCcache, ad.krb5Conf)}`);
      expect(res.status).toBe(200);
      expect(authenticate.mock.calls.map(([name]) => name)).toEqual(['negotiate', 'negotiate']);
    } finally {
      authenticate.mockRestore();
    }
  });

  test.each([
    ['a non-base64 header', 400, 'Negotiate !!!not-base64!!!', 'negotiate_malformed'],
    ['an empty token', 400, 'Negotiate', 'negotiate_malformed'],
    ['base64 that is not a Kerberos token', 400, 'Negotiate YIIBAAAA', 'negotiate_malformed'],
    ['an NTLM token', 401, `Negotiate ${Buffer.from('NTLMSSP\u0000\u0001\u0000\u0000\u0000\u0007\u0082\u0008\u00a2').toString('base64')}`, 'negotiate_ntlm'],
  ])('%s → %i with the login form, audited', async (_label, status, header, reason) => {
    const res = await ctx.agent().get('/cas/login').set('Authorization', header);
    expect(res.status).toBe(status);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.text).toContain('name="execution"');
    expect(res.text).toContain('Sign in with your password instead.');
    const { events } = await ctx.services.audit.query({ event: 'login', limit: 1 });
    expect(events[0]).toMatchObject({ outcome: 'failure', username: null, details: { reason, channel: 'spnego' } });
  });

  test('a locked user is refused through SPNEGO too', async () => {
    const bobCcache = await kinit(principalOf('bob'), ad.users.bob.password, ad.krb5Conf);
    for (let i = 0; i < 2; i++) await submitLogin(ctx.agent(), `${ad.domain}\\bob`, `Wrong-password-${i}`);
    const res = await ctx.agent().get('/cas/login').set('Authorization', `Negotiate ${await negotiateToken(bobCcache, ad.krb5Conf)}`);
    expect(res.status).toBe(423);
    expect(await lastLoginAudit(ctx, principalOf('bob'))).toMatchObject({ outcome: 'failure', details: { reason: 'locked', channel: 'spnego' } });
  });
});

describe('Active Directory through the LDAP backend', () => {
  const adLdap = (overrides: Record<string, unknown>) => ({
    type: 'ldap',
    name: 'ad-ldap',
    url: ad.ldapsUrl,
    caFile: ad.caFile,
    searchBase: ad.baseDn,
    searchFilter: '(sAMAccountName={{username}})',
    groupRoles: { [ad.adminGroupDn]: 'admin' },
    ...overrides,
  });

  test('direct UPN bind over LDAPS: success with memberOf; AD sub-codes map to clear states', async () => {
    const ctx = await withBackends([adLdap({ bindDnTemplate: `{{username}}@${ad.realm}` })]);
    try {
      expect(await ctx.services.loginService.login({ username: 'carol', password: ad.users.carol.password }, context)).toMatchObject({
        status: 'success',
        account: { source: 'ad-ldap', role: 'admin' },
        principal: { externalId: ad.users.carol.dn, attributes: { memberOf: expect.arrayContaining([ad.adminGroupDn]) } },
      });
      expect((await ctx.services.loginService.login({ username: 'bob', password: 'Wrong-password-1' }, context)).status).toBe('invalid');
      expect(await ctx.services.loginService.login({ username: 'disabled1', password: ad.users.disabled1.password }, context)).toEqual({ status: 'account_state', reason: 'account_disabled' });
      expect(await ctx.services.loginService.login({ username: 'expired1', password: ad.users.expired1.password }, context)).toEqual({ status: 'account_state', reason: 'account_expired' });
      expect(await ctx.services.loginService.login({ username: 'mustchange1', password: ad.users.mustchange1.password }, context)).toEqual({ status: 'account_state', reason: 'password_must_change' });
    } finally {
      await ctx.close();
    }
  });

  test('search-then-bind with the service account over StartTLS', async () => {
    const ctx = await withBackends([adLdap({ url: ad.ldapUrl, startTls: true, serviceAccount: { dn: ad.bindUpn, passwordFile: secretFile(ad.bindPassword, 0o600) } })]);
    try {
      expect(await ctx.services.loginService.login({ username: 'bob', password: ad.users.bob.password }, context)).toMatchObject({ status: 'success', principal: { externalId: ad.users.bob.dn } });
      expect((await ctx.services.loginService.login({ username: 'bob', password: 'Wrong-password-1' }, context)).status).toBe('invalid');
    } finally {
      await ctx.close();
    }
  });
});
