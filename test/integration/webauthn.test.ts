import { type TestContext, createTestContext, executionFrom, submitLogin } from '../support/test-app';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { passkeyObstacle } from '../../src/mfa/webauthn-service';
import { TGC_COOKIE } from '../../src/web/login-routes';
import { ApiClient } from '../support/admin-api';

/**
 * Security keys and passkeys over HTTP with a software authenticator, on
 * SQLite and PostgreSQL (PORTCULLIS_TEST_DB=postgres): two instances sharing
 * one database finish each other's ceremonies, challenges are single-use and
 * expire, refused keys count toward the NEC lockout, the relying party is
 * server.publicUrl whatever the Host header says. Browsers: test/browser.
 */

const PASSWORD = 'Correct-Horse-7';
const ORIGIN = 'https://sso.example.org';
type Agent = ReturnType<TestContext['agent']>;

const tokenIn = (page: string) => /name="token" value="([^"]+)"/.exec(page)![1];

describe('WebAuthn security keys and passkeys', () => {
  let a: TestContext;
  let b: TestContext;
  /** Two instances on one database, as behind a load balancer, with an administrator "root". */
  async function start(clientThrottle?: { maxFailures: number }): Promise<void> {
    const overrides = { server: { publicUrl: ORIGIN }, mfa: { require: 'admins' as const }, lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 300 }, ops: { clientThrottle } };
    a = await createTestContext({ fileDatabase: true, overrides });
    b = await createTestContext({ shareDatabaseWith: a, clock: a.clock, overrides });
    await a.addUser('root', PASSWORD, { role: 'admin' });
  }
  beforeEach(() => start());
  afterEach(async () => {
    await b?.close();
    await a?.close();
  });

  async function options(agent: Agent, ceremony: string, token?: string) {
    const response = await agent.post('/cas/webauthn/options').type('form').send({ ceremony, ...(token ? { token } : {}) });
    expect(response.status).toBe(200);
    return response.body;
  }

  /** Password on A; the key's registration options from A, its answer to B. */
  async function enrolAcross(key: SoftAuthenticator): Promise<void> {
    const page = await submitLogin(a.agent(), 'root', PASSWORD);
    expect(page.text).toContain('Add a security key / passkey');
    const token = tokenIn(page.text);
    const credential = key.register(await options(a.agent(), 'register', token));
    const done = await b.agent().post('/cas/mfa/webauthn/enrol').type('form').send({ token, credential, name: 'Desk key' });
    expect(done.text).toContain('Save your recovery codes');
  }

  /** Password, then the key: options from `from`, the answer to `to`. */
  async function keyAfterPassword(key: SoftAuthenticator, from: TestContext, to: TestContext, answer?: (opts: { challenge: string }) => string) {
    const page = await submitLogin(from.agent(), 'root', PASSWORD);
    expect(page.text).toContain('Use a security key');
    const token = tokenIn(page.text);
    const opts = await options(from.agent(), 'authenticate', token);
    return to.agent().post('/cas/mfa/webauthn').type('form').send({ token, credential: (answer ?? ((o) => key.assert(o)))(opts) });
  }

  async function passkey(agent: Agent, credential: (opts: { challenge: string }) => string, ctx: TestContext = a) {
    const page = await agent.get('/cas/login');
    const opts = await options(ctx.agent(), 'passkey');
    return agent.post('/cas/login/passkey').type('form').send({ execution: executionFrom(page.text), credential: credential(opts) });
  }

  it('enrols on one instance and signs in on the other, as a second factor and as a passkey', async () => {
    const key = new SoftAuthenticator(ORIGIN);
    await enrolAcross(key);
    const root = await a.services.accountService.requireByUsername('root');
    expect((await b.services.mfa.list(root.id)).map((f) => [f.kind, f.name])).toContainEqual(['webauthn', 'Desk key']);
    expect((await keyAfterPassword(key, a, b)).text).toContain('You are logged in');
    const agent = b.agent();
    expect((await passkey(agent, (o) => key.assert(o), a)).text).toContain('You are logged in');
    // A passkey sign-in is a login (audit, metrics, last login for the inactivity rule).
    const logins = (await a.services.audit.query({ username: 'root', event: 'login' })).events;
    expect(logins.filter((e) => e.details?.method === 'passkey').map((e) => e.outcome)).toEqual(['success']);
    expect((await a.services.accountService.requireByUsername('root')).lastLoginAt).toBe(a.clock.now());
    // The passkey session satisfies authn_method=mfa without a step-up.
    expect((await agent.get('/cas/login?authn_method=mfa')).text).toContain('You are logged in');
  });

  it('adds more named keys from a session that used a second factor, not from a password-only one', async () => {
    const first = new SoftAuthenticator(ORIGIN);
    await enrolAcross(first);
    const agent = a.agent();
    expect((await passkey(agent, (o) => first.assert(o))).text).toContain('You are logged in');
    const page = await agent.get('/cas/mfa/keys');
    expect(page.text).toContain('Desk key');
    const token = tokenIn(page.text);
    const second = new SoftAuthenticator(ORIGIN);
    const credential = second.register((await agent.post('/cas/webauthn/options').type('form').send({ ceremony: 'add', token })).body);
    expect((await agent.post('/cas/mfa/keys').type('form').send({ token: 'forged', credential, name: 'Laptop' })).status).toBe(403);
    const added = await agent.post('/cas/mfa/keys').type('form').send({ token, credential, name: 'Laptop' });
    expect(added.text).toContain('The security key was added.');
    const root = await a.services.accountService.requireByUsername('root');
    expect((await a.services.mfa.list(root.id)).filter((f) => f.kind === 'webauthn').map((f) => f.name)).toEqual(['Desk key', 'Laptop']);
    expect((await passkey(b.agent(), (o) => second.assert(o), b)).text).toContain('You are logged in');

    await a.addUser('alice', PASSWORD);
    const passwordOnly = a.agent();
    expect((await submitLogin(passwordOnly, 'alice', PASSWORD)).text).toContain('You are logged in');
    expect((await passwordOnly.get('/cas/mfa/keys')).status).toBe(403);
    expect((await passwordOnly.post('/cas/webauthn/options').type('form').send({ ceremony: 'add', token })).status).toBe(403);
  });

  it('uses a challenge once and not after it expired', async () => {
    // No counter (always 0): only the challenge's single use stops a replayed answer.
    const key = Object.assign(new SoftAuthenticator(ORIGIN), { counts: false });
    await enrolAcross(key);
    const page = await submitLogin(a.agent(), 'root', PASSWORD);
    const token = tokenIn(page.text);
    const credential = key.assert(await options(a.agent(), 'authenticate', token));
    expect((await b.agent().post('/cas/mfa/webauthn').type('form').send({ token, credential })).text).toContain('You are logged in');
    expect((await a.agent().post('/cas/mfa/webauthn').type('form').send({ token, credential })).status).toBe(401);
    const late = await keyAfterPassword(key, a, b, (o) => {
      a.clock.advance(5 * 60 * 1000 + 1);
      return key.assert(o);
    });
    expect(late.status).toBe(401);
  });

  it('counts refused keys toward the lockout; a locked account refuses even the right key', async () => {
    const key = new SoftAuthenticator(ORIGIN);
    await enrolAcross(key);
    const stranger = new SoftAuthenticator(ORIGIN);
    for (let i = 0; i < 3; i++) expect((await keyAfterPassword(key, a, b, (o) => stranger.assert(o))).status).toBe(401);
    expect((await a.services.audit.query({ username: 'root', event: 'account_locked' })).total).toBe(1);
    expect((await submitLogin(a.agent(), 'root', PASSWORD)).status).toBe(423);
    expect((await passkey(a.agent(), (o) => key.assert(o))).status).toBe(423);
  });

  it('applies the client-address throttle to passkey sign-in', async () => {
    await b.close();
    await a.close();
    await start({ maxFailures: 2 });
    const key = new SoftAuthenticator(ORIGIN);
    await enrolAcross(key);
    key.userVerified = false;
    for (let i = 0; i < 2; i++) expect((await passkey(a.agent(), (o) => key.assert(o))).status).toBe(401);
    key.userVerified = true;
    // Two failures: below the account's lockout (3), at the client address's limit.
    const throttled = await passkey(a.agent(), (o) => key.assert(o));
    expect(throttled.status).toBe(423);
    expect((await a.services.audit.query({ username: 'root', event: 'mfa_failed' })).events.map((e) => e.details?.reason)).toContain('client_throttled');
  });

  it('refuses a counter that went backwards (cloned key) and audits it', async () => {
    const key = new SoftAuthenticator(ORIGIN);
    await enrolAcross(key);
    expect((await keyAfterPassword(key, a, b)).text).toContain('You are logged in');
    key.counter -= 1;
    expect((await keyAfterPassword(key, b, a)).status).toBe(401);
    expect((await a.services.audit.query({ username: 'root', event: 'webauthn_clone_suspected' })).total).toBe(1);
  });

  it('requires user verification for a passkey, and refuses one for a disabled account', async () => {
    const key = new SoftAuthenticator(ORIGIN);
    await enrolAcross(key);
    key.userVerified = false;
    expect((await passkey(a.agent(), (o) => key.assert(o))).status).toBe(401);
    key.userVerified = true;
    await a.addUser('spare', PASSWORD, { role: 'admin' });
    const root = await a.services.accountService.requireByUsername('root');
    await a.services.accountService.update(root.id, { enabled: false }, { name: 'test' });
    const disabled = await passkey(a.agent(), (o) => key.assert(o));
    expect(disabled.status).toBe(401);
    expect(disabled.text).toContain('That passkey was not accepted');
  });

  it('refuses a passkey sign-in, before any session, while the password must change or for a directory account', async () => {
    const key = new SoftAuthenticator(ORIGIN);
    await enrolAcross(key);
    const root = await a.services.accountService.requireByUsername('root');
    await a.services.accountService.setPassword(root, 'Another-Horse-8', { mustChange: true, actor: { name: 'test' } });
    const forced = await passkey(a.agent(), (o) => key.assert(o));
    expect(forced.status).toBe(403);
    expect(forced.text).toContain('Your password must be changed first');
    expect(String(forced.headers['set-cookie'] ?? '')).not.toContain(`${TGC_COOKIE}=`);
    const failures = (await a.services.audit.query({ username: 'root', event: 'login' })).events.filter((e) => e.details?.method === 'passkey');
    expect(failures.map((e) => [e.outcome, e.details?.reason])).toEqual([['failure', 'password_change']]);
    // An expired password (password.maxAgeDays) counts the same.
    const now = a.clock.now();
    expect(passkeyObstacle({ ...root, mustChangePassword: false, passwordChangedAt: now - 31 * 86_400_000 }, 30, now)).toBe('password_change');
    expect(passkeyObstacle({ ...root, mustChangePassword: false, passwordChangedAt: now - 29 * 86_400_000 }, 30, now)).toBeNull();

    await a.services.db.knex('accounts').where({ id: root.id }).update({ source: 'ldap', must_change_password: false });
    const directory = await passkey(a.agent(), (o) => key.assert(o));
    expect(directory.status).toBe(403);
    expect(directory.text).toContain('signs in through the directory');
  });

  it('takes the relying party from server.publicUrl, never from the Host header', async () => {
    const key = new SoftAuthenticator(ORIGIN);
    await enrolAcross(key);
    const page = await submitLogin(a.agent(), 'root', PASSWORD);
    const token = tokenIn(page.text);
    const opts = (await a.agent().post('/cas/webauthn/options').set('Host', 'localhost').type('form').send({ ceremony: 'authenticate', token })).body;
    expect(opts.rpId).toBe('sso.example.org');
    const phished = key.from('https://localhost');
    const refused = await a.agent().post('/cas/mfa/webauthn').set('Host', 'localhost').type('form').send({ token, credential: phished.assert(opts) });
    expect(refused.status).toBe(401);
  });

  it('refuses REST tickets and API tokens alike, saying why, for an account whose second factor is only a security key; a recovery code still serves', async () => {
    const page = await submitLogin(a.agent(), 'root', PASSWORD);
    const token = tokenIn(page.text);
    const credential = new SoftAuthenticator(ORIGIN).register(await options(a.agent(), 'register', token));
    const done = await a.agent().post('/cas/mfa/webauthn/enrol').type('form').send({ token, credential, name: 'Desk key' });
    const recovery = done.text.match(/[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}/g)!;
    expect(recovery).toHaveLength(10);
    const rest = (otp?: string) => a.agent().post('/cas/v1/tickets').type('form').send({ username: 'root', password: PASSWORD, ...(otp ? { otp } : {}) });
    const api = (otp?: string) => {
      const test = new ApiClient(a).post('/tokens', { username: 'root', password: PASSWORD });
      return otp ? test.set('X-Portcullis-OTP', otp) : test;
    };
    for (const otp of [undefined, '123456']) {
      const restRefusal = await rest(otp);
      expect([restRefusal.status, restRefusal.text]).toEqual([403, expect.stringContaining('security key')]);
      const apiRefusal = await api(otp);
      expect([apiRefusal.status, apiRefusal.body.type]).toEqual([403, expect.stringMatching(/mfa-security-key-only$/)]);
      expect(apiRefusal.body.detail).toBe(restRefusal.text.trim());
    }
    // No code was checked, so nothing counted toward the lockout (limit 3).
    expect((await rest(recovery[0])).status).toBe(201);
    expect((await api(recovery[1])).status).toBe(201);
  });
});
