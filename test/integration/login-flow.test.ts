import { createTestContext, submitLogin, type TestContext } from '../support/test-app';

const PASSWORD = 'Correct-Horse-7';

function tokenFrom(page: string): string {
  const match = /name="token" value="([^"]+)"/.exec(page);
  if (!match) throw new Error('no password-change token in page');
  return match[1];
}

describe('forced password change', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { password: { maxAgeDays: 30 } } });
  });
  afterEach(() => ctx.close());

  it('makes the bootstrap administrator change the one-time password at first login', async () => {
    const bootstrap = await ctx.services.accountService.ensureBootstrapAdministrator();
    expect(bootstrap?.username).toBe('admin');
    expect(await ctx.services.accountService.ensureBootstrapAdministrator()).toBeNull();
    const admin = await ctx.services.accountService.requireByUsername('admin');
    expect(admin.role).toBe('admin');
    expect(admin.mustChangePassword).toBe(true);
    expect(admin.passwordHash).not.toContain(bootstrap!.password);

    const agent = ctx.agent();
    const first = await submitLogin(agent, 'admin', bootstrap!.password);
    expect(first.status).toBe(200);
    expect(first.text).toContain('Change your password');
    expect(first.headers['set-cookie']?.toString() ?? '').not.toContain('TGC=TGT-');
    const token = tokenFrom(first.text);

    const mismatch = await agent.post('/cas/password').type('form').send({ token, password: 'Brand-New-Pass-9', confirm: 'Brand-New-Pass-8' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.text).toContain('do not match');

    const weak = await agent.post('/cas/password').type('form').send({ token, password: 'admin', confirm: 'admin' });
    expect(weak.status).toBe(400);
    for (const rule of ['at least 8 characters', 'digit or special character', 'must not contain the username', 'too common']) expect(weak.text).toContain(rule);

    const reuse = await agent.post('/cas/password').type('form').send({ token, password: bootstrap!.password, confirm: bootstrap!.password });
    expect(reuse.status).toBe(400);
    expect(reuse.text).toContain('last 5 passwords');

    const done = await agent.post('/cas/password').type('form').send({ token, password: 'Brand-New-Pass-9', confirm: 'Brand-New-Pass-9' });
    expect(done.status).toBe(200);
    expect(done.text).toContain('You are logged in');
    expect(done.headers['set-cookie']?.toString()).toContain('TGC=TGT-');

    // The token was single-use; the old password is gone; the new one logs in directly.
    const replay = await agent.post('/cas/password').type('form').send({ token, password: 'Other-New-Pass-9', confirm: 'Other-New-Pass-9' });
    expect(replay.status).toBe(403);
    expect((await submitLogin(ctx.agent(), 'admin', bootstrap!.password)).status).toBe(401);
    const next = await submitLogin(ctx.agent(), 'admin', 'Brand-New-Pass-9');
    expect(next.text).toContain('You are logged in');
  });

  it('asks for a new password when the password is older than maxAgeDays', async () => {
    await ctx.addUser('alice', PASSWORD);
    ctx.clock.advance(31 * 86_400_000);
    const res = await submitLogin(ctx.agent(), 'alice', PASSWORD);
    expect(res.text).toContain('Your password has expired.');
  });
});

describe('single sign-on sessions', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { tickets: { tgtIdleTimeoutSeconds: 600, tgtHardTimeoutSeconds: 3600 } } });
    await ctx.addUser('alice', PASSWORD);
  });
  afterEach(() => ctx.close());

  it('expires after the idle timeout', async () => {
    const agent = ctx.agent();
    await submitLogin(agent, 'alice', PASSWORD);
    ctx.clock.advance(601_000);
    expect((await agent.get('/cas/login')).text).toContain('Sign in');
  });

  it('stays alive while used, but not past the hard timeout', async () => {
    const agent = ctx.agent();
    await submitLogin(agent, 'alice', PASSWORD);
    for (let minutes = 0; minutes < 55; minutes += 5) {
      ctx.clock.advance(300_000);
      expect((await agent.get('/cas/login')).text).toContain('You are logged in');
    }
    ctx.clock.advance(301_000);
    expect((await agent.get('/cas/login')).text).toContain('Sign in');
  });
});

describe('bad input on the login form', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
    await ctx.addUser('alice', PASSWORD);
  });
  afterEach(() => ctx.close());

  async function expectReadableRefusal(res: { status: number; text: string }, status: number, message: RegExp) {
    expect(res.status).toBe(status);
    expect(res.text).toMatch(message);
    expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect((await ctx.services.lockouts.get('alice')).failureCount).toBe(0);
  }

  it('refuses an overlong username or password with a clear message, without counting a failure', async () => {
    await expectReadableRefusal(await submitLogin(ctx.agent(), 'a'.repeat(257), 'x1-password'), 400, /username is longer than 256/i);
    await expectReadableRefusal(await submitLogin(ctx.agent(), 'alice', 'p'.repeat(1025)), 400, /password is longer than 1024 bytes/);
    await expectReadableRefusal(await submitLogin(ctx.agent(), 'alice', 'é'.repeat(513)), 400, /password is longer than 1024 bytes/);
  });

  it('refuses invalid UTF-8, malformed escapes and duplicate parameters', async () => {
    const agent = ctx.agent();
    await agent.get('/cas/login');
    await expectReadableRefusal(await agent.post('/cas/login').type('form').send('username=alice%FF&password=x'), 400, /not valid UTF-8/);
    await expectReadableRefusal(await agent.post('/cas/login').type('form').send('username=alice%G1&password=x'), 400, /Malformed percent-encoding/);
    await expectReadableRefusal(await agent.post('/cas/login').type('form').send('username=alice&username=bob&password=x'), 400, /given more than once/);
    await expectReadableRefusal(await agent.get('/cas/login?service=a&service=b'), 400, /given more than once/);
    await expectReadableRefusal(await agent.get('/cas/login?renew=%C0%80'), 400, /not valid UTF-8/);
  });

  it('refuses missing fields and wrong content types', async () => {
    await expectReadableRefusal(await submitLogin(ctx.agent(), 'alice', ''), 400, /Enter your username and password/);
    const agent = ctx.agent();
    await agent.get('/cas/login');
    await expectReadableRefusal(await agent.post('/cas/login').set('content-type', 'application/json').send('{"username":"alice"}'), 415, /application\/x-www-form-urlencoded/);
    await expectReadableRefusal(await agent.post('/cas/login').type('form').send('x'.repeat(70_000)), 413, /too large/);
    await expectReadableRefusal(await submitLogin(ctx.agent(), 'ali\u0000ce', 'x1-password'), 400, /control characters/);
  });
});

describe('fail closed', () => {
  it('refuses every login with a reason when the database is unreachable', async () => {
    const ctx = await createTestContext();
    try {
      await ctx.addUser('alice', PASSWORD);
      const agent = ctx.agent();
      const page = await agent.get('/cas/login');
      expect(page.status).toBe(200);
      await ctx.services.db.knex.destroy();
      const execution = /name="execution" value="([^"]+)"/.exec(page.text)![1];
      const res = await agent.post('/cas/login').type('form').send({ username: 'alice', password: PASSWORD, execution });
      expect(res.status).toBe(503);
      expect(res.text).toContain('the database cannot be reached');
      expect(res.text).not.toContain('You are logged in');
    } finally {
      await ctx.close().catch(() => undefined);
    }
  });
});
