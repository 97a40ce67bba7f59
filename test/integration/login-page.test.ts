import { type TestContext, createTestContext, executionFrom, submitLogin } from '../support/test-app';

describe('login page on the internal database', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 900 } } });
    await ctx.addUser('alice', 'Correct-Horse-7');
  });
  afterEach(() => ctx.close());

  it('renders an accessible form with Apereo field names and a CSRF execution token', async () => {
    const res = await ctx.agent().get('/cas/login');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/<label for="username">/);
    expect(res.text).toMatch(/<input id="username" name="username"/);
    expect(res.text).toMatch(/<input id="password" name="password" type="password"/);
    expect(executionFrom(res.text).length).toBeGreaterThan(20);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('logs in, sets a Secure HttpOnly SameSite=Lax TGC on /cas, and recognizes the session', async () => {
    const agent = ctx.agent();
    const res = await submitLogin(agent, 'alice', 'Correct-Horse-7');
    expect(res.status).toBe(200);
    expect(res.text).toContain('You are logged in');
    const tgc = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('TGC='));
    expect(tgc).toMatch(/^TGC=TGT-[A-Za-z0-9]{40,};/);
    expect(tgc).toContain('Path=/cas');
    expect(tgc).toContain('Secure');
    expect(tgc).toContain('HttpOnly');
    expect(tgc).toContain('SameSite=Lax');
    const again = await agent.get('/cas/login');
    expect(again.text).toContain('You are logged in');
    expect(again.text).toContain('alice');
  });

  it('matches usernames case-insensitively after Unicode normalization', async () => {
    const res = await submitLogin(ctx.agent(), 'ＡＬＩＣＥ', 'Correct-Horse-7');
    expect(res.status).toBe(200);
    expect(res.text).toContain('You are logged in');
  });

  it('gives a wrong password and an unknown user the same answer', async () => {
    const wrong = await submitLogin(ctx.agent(), 'alice', 'wrong-password-1');
    const unknown = await submitLogin(ctx.agent(), 'nobody', 'wrong-password-1');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const message = (t: string) => /<div class="notice error"[^>]*><p>([^<]*)<\/p>/.exec(t)?.[1];
    expect(message(wrong.text)).toBe('Invalid username or password.');
    expect(message(unknown.text)).toBe(message(wrong.text));
  });

  it('locks after MaxAllowedLoginFailureCount failures, refuses even the right password, then recovers after UserLockoutTimeout', async () => {
    const agent = ctx.agent();
    for (let i = 0; i < 3; i++) expect((await submitLogin(agent, 'alice', `nope-${i}-x1`)).status).toBe(401);
    const right = await submitLogin(agent, 'alice', 'Correct-Horse-7');
    const wrong = await submitLogin(agent, 'alice', 'nope-again-1');
    expect(right.status).toBe(423);
    expect(wrong.status).toBe(423);
    expect(right.text).toContain('temporarily locked');
    expect(wrong.text).toContain('temporarily locked');
    ctx.clock.advance(899_000);
    expect((await submitLogin(agent, 'alice', 'Correct-Horse-7')).status).toBe(423);
    ctx.clock.advance(2_000);
    expect((await submitLogin(agent, 'alice', 'Correct-Horse-7')).status).toBe(200);
  });

  it('resets the failure count after a successful login', async () => {
    const agent = ctx.agent();
    await submitLogin(agent, 'alice', 'nope-1-x');
    await submitLogin(agent, 'alice', 'nope-2-x');
    expect((await submitLogin(agent, 'alice', 'Correct-Horse-7')).status).toBe(200);
    await submitLogin(ctx.agent(), 'alice', 'nope-3-x');
    await submitLogin(ctx.agent(), 'alice', 'nope-4-x');
    expect((await submitLogin(ctx.agent(), 'alice', 'Correct-Horse-7')).status).toBe(200);
    expect((await ctx.services.lockouts.get('alice')).failureCount).toBe(0);
  });

  it('locks unknown usernames the same way, so lockout does not reveal which accounts exist', async () => {
    for (let i = 0; i < 3; i++) await submitLogin(ctx.agent(), 'ghost', `nope-${i}-x`);
    const res = await submitLogin(ctx.agent(), 'ghost', 'anything-1');
    expect(res.status).toBe(423);
    expect(res.text).toContain('temporarily locked');
  });

  it('refuses a POST without a valid execution token (CSRF) and does not count it', async () => {
    const agent = ctx.agent();
    await agent.get('/cas/login');
    const forged = await agent.post('/cas/login').type('form').send({ username: 'alice', password: 'nope-1-x', execution: 'forged.token' });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('expired');
    // An execution from another browser (other nonce cookie) is refused too.
    const other = executionFrom((await ctx.agent().get('/cas/login')).text);
    const crossed = await agent.post('/cas/login').type('form').send({ username: 'alice', password: 'Correct-Horse-7', execution: other });
    expect(crossed.status).toBe(403);
    expect((await ctx.services.lockouts.get('alice')).failureCount).toBe(0);
  });

  it('logs out: the TGT is destroyed and the cookie cleared', async () => {
    const agent = ctx.agent();
    await submitLogin(agent, 'alice', 'Correct-Horse-7');
    const out = await agent.get('/cas/logout');
    expect(out.status).toBe(200);
    expect(out.text).toContain('You are logged out');
    expect(await ctx.services.tickets.countActive('TGT', ctx.clock.now())).toBe(0);
    const again = await agent.get('/cas/login');
    expect(again.text).toContain('Sign in');
  });
});
