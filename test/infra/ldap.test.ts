/**
 * LDAP backend against the real OpenLDAP slapd started by
 * scripts/test-servers/up.sh (ldap://127.0.0.1:3389 + StartTLS,
 * ldaps://127.0.0.1:3636). Never skipped: a missing server fails the file.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load';
import type { ConfigInput } from '../../src/config/schema';
import { LdapBackend } from '../../src/authn/ldap/ldap-backend';
import { ConfigError, PolicyError } from '../../src/shared/errors';
import { createLogger } from '../../src/shared/logger';
import { usernameKey } from '../../src/shared/username';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { LDAP_SERVICE_PASSWORD_ENV, directorySecretsEnv, secretFile, slapdBackend } from '../support/directory-config';
import { SlapdLog, directoryEnv, testServerScript } from '../support/directory-env';

const env = directoryEnv();
const log = new SlapdLog(env.ldap.logFile);
const context = { clientIp: '127.0.0.1', userAgent: 'jest', channel: 'test' };

function withLdap(backends: unknown[], extra: ConfigInput = {}): Promise<TestContext> {
  return createTestContext({ overrides: { ...extra, authentication: { backends: backends as never } } });
}

async function lastLoginAudit(ctx: TestContext, username?: string) {
  const { events } = await ctx.services.audit.query({ event: 'login', ...(username ? { username } : {}), limit: 1 });
  return events[0];
}

/** A pino logger whose lines a test can read. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('warn', stream), lines };
}

describe('LDAP search-then-bind over LDAPS (slapd)', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await withLdap([{ type: 'internal' }, slapdBackend()]);
  });
  afterAll(() => ctx.close());

  test('correct password signs in, provisions a local ldap account and audits it', async () => {
    const res = await submitLogin(ctx.agent(), 'alice', env.ldap.users.alice.password);
    expect(res.status).toBe(200);
    expect(res.text).toContain('alice');
    const account = await ctx.services.accounts.findByKey('alice');
    expect(account).toMatchObject({ source: 'ldap', role: 'user', passwordHash: null, externalId: env.ldap.users.alice.dn, displayName: 'Alice Anderson', email: 'alice@example.test' });
    expect(await lastLoginAudit(ctx, 'alice')).toMatchObject({ outcome: 'success', backend: 'ldap' });
  });

  test('mapped attributes (displayName, mail, memberOf, released extras) reach the principal', async () => {
    const result = await ctx.services.loginService.login({ username: 'alice', password: env.ldap.users.alice.password }, context);
    expect(result.status).toBe('success');
    if (result.status !== 'success') return;
    expect(result.principal.attributes).toEqual({
      displayName: ['Alice Anderson'],
      mail: ['alice@example.test'],
      memberOf: [env.ldap.staffGroupDn],
      employeeNumber: ['1001'],
    });
  });

  test('wrong password and unknown user are the same refusal, audited with the real reason', async () => {
    const wrong = await submitLogin(ctx.agent(), 'bob', 'not-bobs-password');
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Invalid username or password.');
    expect(await lastLoginAudit(ctx, 'bob')).toMatchObject({ outcome: 'failure', backend: 'ldap', details: { reason: 'bad_credentials' } });
    const unknown = await submitLogin(ctx.agent(), 'nobody-here', 'whatever1');
    expect(unknown.status).toBe(401);
    expect(unknown.text).toContain('Invalid username or password.');
    expect(await lastLoginAudit(ctx, 'nobody-here')).toMatchObject({ outcome: 'failure', details: { reason: 'unknown_user' } });
  });

  test('a uid containing a filter metacharacter (star*user) signs in: values are inserted, not parsed', async () => {
    const res = await submitLogin(ctx.agent(), 'star*user', 'starpass');
    expect(res.status).toBe(200);
    expect(await ctx.services.accounts.findByKey('star*user')).toMatchObject({ source: 'ldap', externalId: env.ldap.users['star*user'].dn });
  });

  test('injection `*)(uid=*))(|(uid=*` matches nobody and reaches slapd only as an escaped value', async () => {
    const injection = '*)(uid=*))(|(uid=*';
    await log.mark();
    const res = await submitLogin(ctx.agent(), injection, 'alicepass');
    expect(res.status).toBe(401);
    expect(await lastLoginAudit(ctx, injection)).toMatchObject({ outcome: 'failure', details: { reason: 'unknown_user' } });
    // slapd logs the filter it received: one equality assertion with every metacharacter escaped.
    const searches = await log.searchesMatching('uid=');
    expect(searches.some((line) => line.includes('filter="(uid=\\2A\\29\\28uid=\\2A\\29\\29\\28|\\28uid=\\2A)"'))).toBe(true);
  });

  test('bare `*` and `alice)(objectClass=*` match nobody either', async () => {
    for (const name of ['*', 'alice)(objectClass=*']) {
      const result = await ctx.services.loginService.login({ username: name, password: 'alicepass' }, context);
      expect(result.status).toBe('invalid');
    }
  });

  test('an empty password is refused before any bind (it would be an anonymous bind)', async () => {
    await log.mark();
    const backend = ctx.services.backends.find((b) => b.name === 'ldap') as LdapBackend;
    expect(await backend.authenticate({ username: 'alice', password: '' })).toEqual({ ok: false, reason: 'bad_credentials' });
    const result = await ctx.services.loginService.login({ username: 'alice', password: '' }, context);
    expect(result.status).toBe('invalid');
    expect(await log.bindsFor(env.ldap.users.alice.dn)).toHaveLength(0);
    // The login form refuses it too, before the service is asked.
    const form = await submitLogin(ctx.agent(), 'alice', '');
    expect(form.status).toBe(400);
  });

  test('bad input: NUL and 300 characters are refused clearly and audited; `\\` and `@` never reach slapd unescaped', async () => {
    const nul = await submitLogin(ctx.agent(), 'ali\u0000ce', 'alicepass');
    expect(nul.status).toBe(400);
    expect(nul.text).toContain('control characters');
    expect(await lastLoginAudit(ctx, 'ali\ufffdce')).toMatchObject({ outcome: 'failure', details: { reason: 'invalid_input' } });

    const long = 'a'.repeat(300);
    const tooLong = await submitLogin(ctx.agent(), long, 'alicepass');
    expect(tooLong.status).toBe(400);
    expect(tooLong.text).toContain('longer than 256');
    expect(await lastLoginAudit(ctx, 'a'.repeat(256))).toMatchObject({ outcome: 'failure', details: { reason: 'invalid_input' } });

    await log.mark();
    for (const name of ['alice\\', 'alice@example.test']) {
      const res = await submitLogin(ctx.agent(), name, 'alicepass');
      expect(res.status).toBe(401);
      expect(await lastLoginAudit(ctx, name)).toMatchObject({ outcome: 'failure', details: { reason: 'unknown_user' } });
    }
    const searches = await log.searchesMatching('uid=alice');
    expect(searches.some((line) => line.includes('filter="(uid=alice\\5C)"'))).toBe(true);
    expect(searches.some((line) => line.includes('filter="(uid=alice@example.test)"'))).toBe(true);
  });

  test("directory users' passwords cannot be changed through Portcullis", async () => {
    const account = await ctx.services.accounts.findByKey('alice');
    await expect(ctx.services.accountService.setPassword(account!, 'N3w-password-for-alice', { mustChange: false, actor: { name: 'admin', clientIp: null } })).rejects.toBeInstanceOf(PolicyError);
  });

  test('the service-account and bind connections are pooled (reused across logins)', async () => {
    await ctx.services.loginService.login({ username: 'erin', password: 'erinpass' }, context);
    await log.mark();
    for (let i = 0; i < 5; i++) {
      expect((await ctx.services.loginService.login({ username: 'erin', password: 'erinpass' }, context)).status).toBe('success');
    }
    // slapd numbers connections: every user bind and every search for erin ran on one reused connection each.
    const connectionOf = (line: string) => /conn=(\d+)/.exec(line)?.[1];
    const binds = (await log.bindsFor(env.ldap.users.erin.dn)).filter((l) => l.includes('method=128'));
    const searches = await log.searchesMatching('filter="(uid=erin)"');
    expect(binds).toHaveLength(5);
    expect(searches).toHaveLength(5);
    expect(new Set(binds.map(connectionOf)).size).toBe(1);
    expect(new Set(searches.map(connectionOf)).size).toBe(1);
  });
});

describe('LDAP transport security', () => {
  const contexts: TestContext[] = [];
  afterAll(async () => {
    for (const c of contexts) await c.close();
  });
  async function ctxFor(overrides: Record<string, unknown>) {
    const c = await withLdap([slapdBackend(overrides)]);
    contexts.push(c);
    return c;
  }

  test('StartTLS on ldap:// with the CA signs in', async () => {
    const c = await ctxFor({ url: env.ldap.url, startTls: true });
    expect((await c.services.loginService.login({ username: 'bob', password: 'bobpass' }, context)).status).toBe('success');
  });

  test.each([
    ['LDAPS with a CA that did not sign the server certificate', { caFile: env.ldap.wrongCaFile }],
    ['StartTLS with the wrong CA', { url: env.ldap.url, startTls: true, caFile: env.ldap.wrongCaFile }],
    ['LDAPS with no CA configured (only public roots)', { caFile: undefined }],
    ['LDAPS when the certificate does not name the expected host', { tlsServerName: 'ldap.elsewhere.example' }],
  ])('%s: "directory unavailable", audited, not counted against the user', async (_label, overrides) => {
    const c = await ctxFor(overrides);
    const res = await submitLogin(c.agent(), 'bob', 'bobpass');
    expect(res.status).toBe(503);
    expect(res.text).toContain('the directory cannot be reached');
    expect(await lastLoginAudit(c, 'bob')).toMatchObject({ outcome: 'failure', details: { reason: 'unavailable', dependency: 'directory' } });
    expect((await c.services.lockouts.get(usernameKey('bob'))).failureCount).toBe(0);
  });

  test.each([
    ['LDAPS: the TLS handshake never completes (connect timeout)', 'ldaps'],
    ['ldap://: connected, but requests are never answered (operation timeout)', 'ldap'],
  ])('a directory that accepts connections and never answers: %s → unavailable', async (_label, scheme) => {
    const silent = net.createServer((socket) => socket.on('data', () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const c = await ctxFor({ url: `${scheme}://127.0.0.1:${port}`, allowInsecure: scheme === 'ldap', connectTimeoutSeconds: 0.5, operationTimeoutSeconds: 0.5 });
      const result = await c.services.loginService.login({ username: 'bob', password: 'bobpass' }, context);
      expect(result).toMatchObject({ status: 'unavailable', dependency: 'directory' });
      expect(result.status === 'unavailable' && result.message).toMatch(/within 5\d\d ms|timeout/);
    } finally {
      silent.close();
    }
  });

  test('plain ldap:// is refused without allowInsecure, naming the key', () => {
    expect(() => loadConfig({ configDir: '/nonexistent', dataDir: '/tmp', env: {}, overrides: { authentication: { backends: [slapdBackend({ url: env.ldap.url }) as never] } } })).toThrow(
      /allowInsecure/,
    );
  });

  test('plain ldap:// with allowInsecure works and warns at every start', async () => {
    const { logger, lines } = capturingLogger();
    const config = slapdBackend({ url: env.ldap.url, allowInsecure: true, serviceAccount: { dn: env.ldap.serviceDn, passwordEnv: LDAP_SERVICE_PASSWORD_ENV } });
    // The same environment for loading and building, as at start (loadConfig checks the variable is set).
    const loaded = loadConfig({ configDir: '/nonexistent', dataDir: '/tmp', env: directorySecretsEnv(), overrides: { authentication: { backends: [config as never] } } });
    const entry = loaded.config.authentication.backends[0];
    if (entry.type !== 'ldap') throw new Error('expected ldap');
    for (let start = 0; start < 2; start++) {
      const backend = new LdapBackend(entry, directorySecretsEnv(), logger, 'authentication.backends.0');
      expect(await backend.authenticate({ username: 'bob', password: 'bobpass' })).toMatchObject({ ok: true });
      await backend.close();
    }
    expect(lines.filter((l) => l.includes('"event":"ldap_insecure"'))).toHaveLength(2);
  });
});

describe('LDAP configuration', () => {
  const load = (backends: unknown[]) => () => loadConfig({ configDir: '/nonexistent', dataDir: '/tmp', env: {}, overrides: { authentication: { backends: backends as never } } });

  test('several ldap backends are allowed, each with a unique name', () => {
    expect(load([slapdBackend({ name: 'ldap-a' }), slapdBackend({ name: 'ldap-b' })])).not.toThrow();
    expect(load([slapdBackend(), slapdBackend()])).toThrow(/backend name "ldap" is used twice/);
  });

  test('unknown keys, missing bind mode and unknown types are config errors', () => {
    expect(load([slapdBackend({ bindPasword: 'x' })])).toThrow(/bindPasword/);
    expect(load([slapdBackend({ searchBase: undefined })])).toThrow(/serviceAccount \+ searchBase|bindDnTemplate/);
    expect(load([{ type: 'radius' }])).toThrow(ConfigError);
  });

  test('the bind password comes from an environment variable or a non-world-readable file', async () => {
    const { logger } = capturingLogger();
    const build = (serviceAccount: Record<string, unknown>, envVars: NodeJS.ProcessEnv) => {
      const loaded = loadConfig({ configDir: '/nonexistent', dataDir: '/tmp', env: envVars, overrides: { authentication: { backends: [slapdBackend({ serviceAccount }) as never] } } });
      const entry = loaded.config.authentication.backends[0];
      if (entry.type !== 'ldap') throw new Error('expected ldap');
      return new LdapBackend(entry, envVars, logger, 'authentication.backends.0');
    };
    const fromEnv = build({ dn: env.ldap.serviceDn, passwordEnv: LDAP_SERVICE_PASSWORD_ENV }, directorySecretsEnv());
    expect(await fromEnv.authenticate({ username: 'dave', password: 'davepass' })).toMatchObject({ ok: true });
    await fromEnv.close();
    expect(() => build({ dn: env.ldap.serviceDn, passwordEnv: 'PORTCULLIS_TEST_UNSET_VARIABLE' }, {})).toThrow(/PORTCULLIS_TEST_UNSET_VARIABLE is not set/);
    expect(() => build({ dn: env.ldap.serviceDn, passwordFile: secretFile(env.ldap.servicePassword, 0o644) }, {})).toThrow(/world-readable/);
    expect(() => build({ dn: env.ldap.serviceDn, passwordEnv: 'A', passwordFile: '/x' }, {})).toThrow(/exactly one of passwordEnv or passwordFile/);
  });

  test('a wrong service-account password makes the directory unavailable, not the user wrong', async () => {
    const c = await withLdap([slapdBackend({ serviceAccount: { dn: env.ldap.serviceDn, passwordFile: secretFile('not-the-password', 0o600) } })]);
    try {
      const result = await c.services.loginService.login({ username: 'bob', password: 'bobpass' }, context);
      expect(result).toMatchObject({ status: 'unavailable', dependency: 'directory' });
      expect((await c.services.lockouts.get('bob')).failureCount).toBe(0);
    } finally {
      await c.close();
    }
  });
});

describe('LDAP direct bind with a DN template', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await withLdap([slapdBackend({ serviceAccount: undefined, searchBase: undefined, bindDnTemplate: `uid={{username}},${env.ldap.peopleDn}` })]);
  });
  afterAll(() => ctx.close());

  test('right password signs in with attributes read as the user; wrong password is refused', async () => {
    const ok = await ctx.services.loginService.login({ username: 'carol', password: 'carolpass' }, context);
    expect(ok).toMatchObject({ status: 'success', principal: { externalId: env.ldap.users.carol.dn, attributes: { mail: ['carol@example.test'], memberOf: [env.ldap.adminGroupDn] } } });
    expect((await ctx.services.loginService.login({ username: 'carol', password: 'wrong' }, context)).status).toBe('invalid');
  });

  test('DN metacharacters in the name are escaped into the DN, never structure', async () => {
    await log.mark();
    expect((await ctx.services.loginService.login({ username: 'x,ou=services', password: 'whatever' }, context)).status).toBe('invalid');
    const binds = (await log.since()).filter((l) => l.includes(' BIND dn='));
    expect(binds.some((l) => l.includes('dn="uid=x\\2Cou\\3Dservices,ou=people,dc=example,dc=test"'))).toBe(true);
  });
});

describe('group-granted roles', () => {
  test('a member of the mapped admin group becomes admin; with the administrator limit full the role is refused and audited', async () => {
    const ctx = await withLdap([{ type: 'internal' }, slapdBackend()], { administrators: { maxAdministratorCount: 1 } });
    try {
      // Limit 1, nobody yet: carol gets it.
      expect(await ctx.services.loginService.login({ username: 'carol', password: 'carolpass' }, context)).toMatchObject({ status: 'success', account: { role: 'admin' } });
    } finally {
      await ctx.close();
    }
    const full = await withLdap([{ type: 'internal' }, slapdBackend()], { administrators: { maxAdministratorCount: 1 } });
    try {
      await full.addUser('localadmin', 'Local-admin-passw0rd', { role: 'admin' });
      expect(await full.services.loginService.login({ username: 'carol', password: 'carolpass' }, context)).toMatchObject({ status: 'success', account: { role: 'user' } });
      const { events } = await full.services.audit.query({ event: 'role_denied', username: 'carol' });
      expect(events).toHaveLength(1);
      // Not in the admin group → user, whatever the limit.
      expect(await full.services.loginService.login({ username: 'alice', password: 'alicepass' }, context)).toMatchObject({ status: 'success', account: { role: 'user' } });
    } finally {
      await full.close();
    }
  });
});

describe('lockout of directory users', () => {
  test('counted before slapd is asked: a locked user never reaches the directory', async () => {
    const ctx = await withLdap([slapdBackend()], { lockout: { maxAllowedLoginFailureCount: 2, userLockoutTimeout: 600 } });
    try {
      const dave = env.ldap.users.dave;
      await log.mark();
      expect((await submitLogin(ctx.agent(), 'dave', 'wrong-1')).status).toBe(401);
      expect((await submitLogin(ctx.agent(), 'dave', 'wrong-2')).status).toBe(401);
      // Control: while not locked, each attempt is a bind that slapd logs.
      expect((await log.bindsFor(dave.dn)).filter((l) => l.includes('method=128'))).toHaveLength(2);
      await log.mark();
      const locked = await submitLogin(ctx.agent(), 'dave', dave.password);
      expect(locked.status).toBe(423);
      expect(locked.text).toContain('temporarily locked');
      expect(await log.bindsFor(dave.dn)).toHaveLength(0);
      expect(await log.searchesMatching('uid=dave')).toHaveLength(0);
      expect(await lastLoginAudit(ctx, 'dave')).toMatchObject({ outcome: 'failure', details: { reason: 'locked' } });
      const { events } = await ctx.services.audit.query({ event: 'account_locked', username: 'dave' });
      expect(events).toHaveLength(1);
      // After the timeout the directory is asked again.
      ctx.clock.advance(601_000);
      expect((await submitLogin(ctx.agent(), 'dave', dave.password)).status).toBe(200);
    } finally {
      await ctx.close();
    }
  });

  test('lockout: false on a backend leaves its users to the directory', async () => {
    const ctx = await withLdap([slapdBackend({ lockout: false })], { lockout: { maxAllowedLoginFailureCount: 2, userLockoutTimeout: 600 } });
    try {
      for (let i = 0; i < 3; i++) expect((await submitLogin(ctx.agent(), 'erin', `wrong-${i}`)).status).toBe(401);
      expect((await ctx.services.lockouts.get('erin')).failureCount).toBe(0);
      expect((await submitLogin(ctx.agent(), 'erin', 'erinpass')).status).toBe(200);
    } finally {
      await ctx.close();
    }
  });
});

// Last: stops the shared slapd for a moment.
describe('directory down mid-run', () => {
  test('slapd stopped → "directory unavailable" (fail closed, audited, not counted); started again → works with the same pools', async () => {
    const ctx = await withLdap([{ type: 'internal' }, slapdBackend()], { lockout: { maxAllowedLoginFailureCount: 2, userLockoutTimeout: 600 } });
    try {
      expect((await submitLogin(ctx.agent(), 'bob', 'bobpass')).status).toBe(200);
      testServerScript('stop-ldap.sh');
      try {
        for (let i = 0; i < 3; i++) {
          const down = await submitLogin(ctx.agent(), 'bob', 'bobpass');
          expect(down.status).toBe(503);
          expect(down.text).toContain('the directory cannot be reached');
        }
        expect(await lastLoginAudit(ctx, 'bob')).toMatchObject({ outcome: 'failure', details: { reason: 'unavailable', dependency: 'directory' } });
        // Three outages did not lock bob (limit 2): they are not his failures.
        expect((await ctx.services.lockouts.get('bob')).failureCount).toBe(0);
      } finally {
        testServerScript('start-ldap.sh');
      }
      expect((await submitLogin(ctx.agent(), 'bob', 'bobpass')).status).toBe(200);
    } finally {
      await ctx.close();
    }
  });
});
