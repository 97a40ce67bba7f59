import { type TestContext, createTestContext, executionFrom, submitLogin } from '../support/test-app';

const APP = 'https://app.example.org/home';
const notice = { version: '2026-04', text: { en: 'Use this system for work only.\n\nActivity is logged.', ja: '業務目的でのみ利用してください。\n\n操作は記録されます。' } };
const tokenOf = (page: string) => /name="token" value="([^"]+)"/.exec(page)![1];

describe('notice page (ui.notice)', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { ui: { notice } } });
    await ctx.services.serviceRegistry.create({ name: 'app', serviceUrl: APP });
    await ctx.addUser('aiko', 'Willow-Beacon-64');
  });
  afterEach(() => ctx.close());

  it('comes after the password and before any ticket; acceptance is stored, audited and not asked again for the same version', async () => {
    const agent = ctx.agent();
    const shown = await submitLogin(agent, 'aiko', 'Willow-Beacon-64', { service: APP });
    expect(shown.status).toBe(200);
    expect(shown.text).toContain('<p>Use this system for work only.</p><p>Activity is logged.</p>');
    expect(shown.text).toContain('Version 2026-04');
    // No session and no ticket yet.
    expect(String(shown.headers['set-cookie'] ?? '')).not.toContain('TGC=');
    expect(await ctx.services.tickets.countActive('TGT', ctx.clock.now())).toBe(0);

    const accepted = await agent.post('/cas/notice').type('form').send({ token: tokenOf(shown.text), decision: 'accept' });
    expect(accepted.status).toBe(303);
    expect(accepted.headers.location).toMatch(/^https:\/\/app\.example\.org\/home\?ticket=ST-/);
    const aiko = await ctx.services.accountService.requireByUsername('aiko');
    expect(await ctx.services.notices.hasAccepted(aiko.id, '2026-04')).toBe(true);
    expect((await ctx.services.audit.query({ event: 'notice_accepted' })).events[0]).toMatchObject({ username: 'aiko', details: { version: '2026-04', language: 'en' } });

    const again = await submitLogin(ctx.agent(), 'aiko', 'Willow-Beacon-64', { service: APP });
    expect(again.status).toBe(303);
  });

  it('asks again when only an older version was accepted, in the page language; declining issues nothing', async () => {
    const aiko = await ctx.services.accountService.requireByUsername('aiko');
    await ctx.services.notices.accept(aiko.id, '2025-01', 'en', ctx.clock.now());
    const agent = ctx.agent();
    const page = await agent.get(`/cas/login?service=${encodeURIComponent(APP)}`).set('Accept-Language', 'ja');
    const shown = await agent.post('/cas/login').set('Accept-Language', 'ja').type('form').send({ username: 'aiko', password: 'Willow-Beacon-64', execution: executionFrom(page.text), service: APP });
    expect(shown.text).toContain('<p>業務目的でのみ利用してください。</p>');
    expect(shown.text).toContain('同意する');
    const declined = await agent.post('/cas/notice').set('Accept-Language', 'ja').type('form').send({ token: tokenOf(shown.text), decision: 'decline' });
    expect(declined.text).toContain('利用規約に同意されなかったため');
    expect(declined.headers.location).toBeUndefined();
    expect(await ctx.services.notices.hasAccepted(aiko.id, '2026-04')).toBe(false);
    expect((await ctx.services.audit.query({ event: 'notice_declined' })).total).toBe(1);
  });

  it('carries long directory attribute lists through the notice into the session', async () => {
    const aiko = await ctx.services.accountService.requireByUsername('aiko');
    const groups = Array.from({ length: 300 }, (_, i) => `cn=group-${i},ou=groups,dc=example,dc=org`);
    const agent = ctx.agent();
    // What the login would render for a directory user with many groups.
    const token = ctx.services.signer.sign('notice', { k: 'login', at: ctx.clock.now(), b: 'ldap', s: APP, m: 'GET', attrs: { memberOf: groups }, a: aiko.id, v: '2026-04' }, ctx.clock.now() + 60_000);
    expect(token.length).toBeGreaterThan(4096);
    const accepted = await agent.post('/cas/notice').type('form').send({ token, decision: 'accept' });
    expect(accepted.status).toBe(303);
    const tgc = /TGC=([^;]+)/.exec(String(accepted.headers['set-cookie']))![1];
    expect((await ctx.services.sessions.find(tgc))?.authentication.attributes.memberOf).toHaveLength(300);
  });

  it('stops single sign-on into a service until a live session accepts, and refuses a forged token', async () => {
    const aiko = await ctx.services.accountService.requireByUsername('aiko');
    const tgt = await ctx.services.sessions.create('aiko', aiko.id, { authenticatedAt: ctx.clock.now(), backend: 'internal', attributes: {} });
    const agent = ctx.agent();
    const shown = await agent.get(`/cas/login?service=${encodeURIComponent(APP)}`).set('Cookie', `TGC=${tgt}`);
    expect(shown.status).toBe(200);
    expect(shown.text).toContain('name="decision" value="accept"');
    const accepted = await agent.post('/cas/notice').set('Cookie', `TGC=${tgt}`).type('form').send({ token: tokenOf(shown.text), decision: 'accept' });
    expect(accepted.headers.location).toMatch(/\?ticket=ST-/);
    const forged = await agent.post('/cas/notice').type('form').send({ token: 'eyJhIjoxfQ.forged', decision: 'accept' });
    expect(forged.status).toBe(403);
  });
});
