import request from 'supertest';
import { type TestContext, createTestContext, executionFrom, submitLogin } from '../support/test-app';
import { callEndpoint, childOrder, loginForTicket, parseCasXml, registerService, ssoTicket, ticketFromRedirect, type XmlObject } from '../support/cas-helpers';

/**
 * CAS 1.0/2.0/3.0 validation, written from the protocol specification
 * (sections 2.1-2.5, 2.8-2.9, 3.1, Appendix A): the parameter matrix
 * (renew, gateway, method, format) and every validation error code.
 */

const APP = 'https://app.example.org/cas-login';
const OTHER = 'https://other.example.org/';
const NS = 'xmlns:cas="http://www.yale.edu/tp/cas"';

describe('CAS ticket validation', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
    await ctx.services.accountService.create({ username: 'alice', password: 'Correct-Horse-7', displayName: 'Alice Liddell', email: 'alice@example.org' }, { name: 'test' });
    await registerService(ctx, { serviceUrl: APP, releasedAttributes: ['displayName', 'mail'] });
    await registerService(ctx, { serviceUrl: OTHER });
  });
  afterEach(() => ctx.close());

  describe('/login', () => {
    it('redirects to the service with a fresh ST- ticket of at least 32 random characters after the login form (303, GET)', async () => {
      const res = await submitLogin(ctx.agent(), 'alice', 'Correct-Horse-7', { service: APP });
      expect(res.status).toBe(303);
      const location = new URL(res.headers.location as string);
      expect(`${location.origin}${location.pathname}`).toBe(APP);
      expect(location.searchParams.get('ticket')).toMatch(/^ST-[A-Za-z0-9]{32,}$/);
    });

    it('single sign-on: with a TGC and no renew, redirects straight back with a new ticket each time', async () => {
      const agent = ctx.agent();
      const first = await loginForTicket(agent, APP);
      const second = await ssoTicket(agent, APP);
      const third = await ssoTicket(agent, OTHER);
      expect(new Set([first, second, third]).size).toBe(3);
    });

    it('never redirects to an unregistered or malformed service (no open redirect), also not after login or at logout', async () => {
      const agent = ctx.agent();
      for (const service of ['https://evil.example.net/', 'https://app.example.org/cas-login/extra', 'javascript:alert(1)', 'https://app.example.org\\@evil.example.net/', '//evil.example.net/']) {
        const res = await agent.get(`/cas/login?${new URLSearchParams({ service })}`);
        expect(res.status).toBe(400);
        expect(res.headers.location).toBeUndefined();
        expect(res.text).toContain('not');
      }
      await loginForTicket(agent, APP);
      const sso = await agent.get(`/cas/login?${new URLSearchParams({ service: 'https://evil.example.net/' })}`);
      expect(sso.status).toBe(400);
      expect(sso.headers.location).toBeUndefined();
      const logout = await agent.get(`/cas/logout?${new URLSearchParams({ service: 'https://evil.example.net/' })}`);
      expect(logout.status).toBe(200);
      expect(logout.headers.location).toBeUndefined();
    });

    it('/logout redirects to a registered service and destroys the session', async () => {
      const agent = ctx.agent();
      await loginForTicket(agent, APP);
      const logout = await agent.get(`/cas/logout?${new URLSearchParams({ service: OTHER })}`);
      expect(logout.status).toBe(303);
      expect(logout.headers.location).toBe(OTHER);
      const again = await agent.get(`/cas/login?${new URLSearchParams({ service: APP })}`);
      expect(again.status).toBe(200);
      expect(again.text).toContain('name="password"');
    });

    it('gateway=true without a session redirects back without a ticket; with a session it issues one', async () => {
      const agent = ctx.agent();
      const anonymous = await agent.get(`/cas/login?${new URLSearchParams({ service: APP, gateway: 'true' })}`);
      expect(anonymous.status).toBe(303);
      expect(anonymous.headers.location).toBe(APP);
      await loginForTicket(agent, APP);
      const withSession = await agent.get(`/cas/login?${new URLSearchParams({ service: APP, gateway: 'true' })}`);
      expect(ticketFromRedirect(withSession)).toMatch(/^ST-/);
    });

    it('renew=true asks for credentials even with a session, and gateway is then ignored', async () => {
      const agent = ctx.agent();
      await loginForTicket(agent, APP);
      for (const extra of [{ renew: 'true' }, { renew: 'true', gateway: 'true' }] as Record<string, string>[]) {
        const res = await agent.get(`/cas/login?${new URLSearchParams({ service: APP, ...extra })}`);
        expect(res.status).toBe(200);
        expect(res.text).toContain('name="password"');
        expect(res.text).toContain('name="renew" value="true"');
      }
    });

    it('method=POST hands the ticket to the service in an auto-submitted form', async () => {
      const agent = ctx.agent();
      await loginForTicket(agent, APP);
      const res = await agent.get(`/cas/login?${new URLSearchParams({ service: APP, method: 'POST' })}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain(`action="${APP}"`);
      expect(res.text).toMatch(/name="ticket" value="ST-[A-Za-z0-9]+"/);
    });
  });

  describe('/validate (CAS 1.0)', () => {
    it('answers "yes\\n<user>\\n" once, then "no\\n\\n"', async () => {
      const ticket = await loginForTicket(ctx.agent(), APP);
      const ok = await callEndpoint(ctx, '/cas/validate', { service: APP, ticket });
      expect(ok.status).toBe(200);
      expect(ok.headers['content-type']).toMatch(/^text\/plain/);
      expect(ok.text).toBe('yes\nalice\n');
      expect((await callEndpoint(ctx, '/cas/validate', { service: APP, ticket })).text).toBe('no\n\n');
    });

    it('answers "no" for missing parameters, a wrong service and renew with an SSO ticket', async () => {
      const agent = ctx.agent();
      await loginForTicket(agent, APP);
      expect((await callEndpoint(ctx, '/cas/validate', { service: APP })).text).toBe('no\n\n');
      expect((await callEndpoint(ctx, '/cas/validate', { service: OTHER, ticket: await ssoTicket(agent, APP) })).text).toBe('no\n\n');
      expect((await callEndpoint(ctx, '/cas/validate', { service: APP, ticket: await ssoTicket(agent, APP), renew: 'true' })).text).toBe('no\n\n');
    });
  });

  describe('/serviceValidate and /p3/serviceValidate', () => {
    it('CAS 2.0 success: exact namespace, only <cas:user>, no attributes', async () => {
      const ticket = await loginForTicket(ctx.agent(), APP);
      const res = await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/xml/);
      expect(res.text.startsWith(`<cas:serviceResponse ${NS}>`)).toBe(true);
      expect(childOrder(res.text, 'cas:authenticationSuccess')).toEqual(['cas:user']);
      expect((parseCasXml(res.text)['cas:authenticationSuccess'] as XmlObject)['cas:user']).toBe('alice');
    });

    it('CAS 3.0 success: attributes in schema order (authenticationDate, longTermAuthenticationRequestTokenUsed, isFromNewLogin, then released ones)', async () => {
      const loginAt = ctx.clock.now();
      const ticket = await loginForTicket(ctx.agent(), APP);
      const res = await callEndpoint(ctx, '/cas/p3/serviceValidate', { service: APP, ticket });
      expect(childOrder(res.text, 'cas:authenticationSuccess')).toEqual(['cas:user', 'cas:attributes']);
      expect(childOrder(res.text, 'cas:attributes')).toEqual(['cas:authenticationDate', 'cas:longTermAuthenticationRequestTokenUsed', 'cas:isFromNewLogin', 'cas:displayName', 'cas:mail']);
      const attributes = (parseCasXml(res.text)['cas:authenticationSuccess'] as XmlObject)['cas:attributes'] as XmlObject;
      expect(attributes['cas:authenticationDate']).toBe(new Date(loginAt).toISOString());
      expect(attributes['cas:longTermAuthenticationRequestTokenUsed']).toBe('false');
      expect(attributes['cas:isFromNewLogin']).toBe('true');
      expect(attributes['cas:displayName']).toBe('Alice Liddell');
      expect(attributes['cas:mail']).toBe('alice@example.org');
    });

    it('releases only the attributes registered for the service', async () => {
      const agent = ctx.agent();
      await loginForTicket(agent, APP);
      const res = await callEndpoint(ctx, '/cas/p3/serviceValidate', { service: OTHER, ticket: await ssoTicket(agent, OTHER) });
      expect(childOrder(res.text, 'cas:attributes')).toEqual(['cas:authenticationDate', 'cas:longTermAuthenticationRequestTokenUsed', 'cas:isFromNewLogin']);
      expect(res.text).not.toContain('alice@example.org');
    });

    it('isFromNewLogin is false for a ticket issued from the single sign-on session', async () => {
      const agent = ctx.agent();
      await loginForTicket(agent, APP);
      const res = await callEndpoint(ctx, '/cas/p3/serviceValidate', { service: APP, ticket: await ssoTicket(agent, APP) });
      expect(((parseCasXml(res.text)['cas:authenticationSuccess'] as XmlObject)['cas:attributes'] as XmlObject)['cas:isFromNewLogin']).toBe('false');
    });

    it('format=JSON on every validation endpoint; format is case-insensitive; an unknown format is INVALID_REQUEST', async () => {
      const agent = ctx.agent();
      await loginForTicket(agent, APP);
      for (const path of ['/cas/serviceValidate', '/cas/proxyValidate', '/cas/p3/serviceValidate', '/cas/p3/proxyValidate']) {
        const res = await callEndpoint(ctx, path, { service: APP, ticket: await ssoTicket(agent, APP), format: 'JSON' });
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        const success = (JSON.parse(res.text) as { serviceResponse: { authenticationSuccess: Record<string, unknown> } }).serviceResponse.authenticationSuccess;
        expect(success.user).toBe('alice');
        if (path.startsWith('/cas/p3/')) {
          expect(success.attributes).toEqual({
            authenticationDate: expect.any(String),
            longTermAuthenticationRequestTokenUsed: false,
            isFromNewLogin: false,
            displayName: 'Alice Liddell',
            mail: 'alice@example.org',
          });
        } else expect(success.attributes).toBeUndefined();
      }
      const lower = await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket: await ssoTicket(agent, APP), format: 'xml' });
      expect(lower.text).toContain('<cas:authenticationSuccess>');
      const yaml = await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket: await ssoTicket(agent, APP), format: 'YAML' });
      expect(yaml.text).toContain('<cas:authenticationFailure code="INVALID_REQUEST">');
      const jsonFailure = await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket: 'ST-nope', format: 'JSON' });
      expect(JSON.parse(jsonFailure.text)).toEqual({ serviceResponse: { authenticationFailure: { code: 'INVALID_TICKET', description: "Ticket 'ST-nope' not recognized" } } });
    });
  });

  describe('renew', () => {
    it('a ticket from a renewed (fresh) login validates with renew=true', async () => {
      const agent = ctx.agent();
      await loginForTicket(agent, APP);
      const page = await agent.get(`/cas/login?${new URLSearchParams({ service: APP, renew: 'true' })}`);
      const res = await agent.post('/cas/login').type('form').send({ username: 'alice', password: 'Correct-Horse-7', execution: executionFrom(page.text), service: APP, renew: 'true' });
      const ticket = ticketFromRedirect(res);
      const validated = await callEndpoint(ctx, '/cas/p3/serviceValidate', { service: APP, ticket, renew: 'true' });
      expect(validated.text).toContain('<cas:isFromNewLogin>true</cas:isFromNewLogin>');
    });

    it('a single sign-on ticket fails with INVALID_TICKET when renew=true, on every endpoint', async () => {
      const agent = ctx.agent();
      await loginForTicket(agent, APP);
      for (const path of ['/cas/serviceValidate', '/cas/proxyValidate', '/cas/p3/serviceValidate', '/cas/p3/proxyValidate']) {
        const res = await callEndpoint(ctx, path, { service: APP, ticket: await ssoTicket(agent, APP), renew: 'true' });
        expect(res.text).toMatch(/<cas:authenticationFailure code="INVALID_TICKET">Ticket 'ST-[A-Za-z0-9]+' did not come from an initial login and renew was requested.<\/cas:authenticationFailure>/);
      }
    });
  });

  describe('error codes', () => {
    const failure = (text: string) => /<cas:authenticationFailure code="([A-Z_]+)">/.exec(text)?.[1];

    it('INVALID_REQUEST when service or ticket is missing, or a parameter is repeated', async () => {
      const ticket = await loginForTicket(ctx.agent(), APP);
      expect(failure((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP })).text)).toBe('INVALID_REQUEST');
      expect(failure((await callEndpoint(ctx, '/cas/p3/serviceValidate', { ticket })).text)).toBe('INVALID_REQUEST');
      const repeated = await request(ctx.url).get(`/cas/serviceValidate?service=${encodeURIComponent(APP)}&ticket=${ticket}&ticket=${ticket}`).ca(ctx.ca);
      expect(repeated.status).toBe(200);
      expect(failure(repeated.text)).toBe('INVALID_REQUEST');
      // Nothing was consumed by the refused requests.
      expect((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket })).text).toContain('<cas:user>alice</cas:user>');
    });

    it('INVALID_TICKET for an unknown ticket, a used ticket, an expired ticket (default lifetime 10 s) and a non-ST prefix', async () => {
      const agent = ctx.agent();
      const ticket = await loginForTicket(agent, APP);
      expect(failure((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket: 'ST-0000000000000000000000000000000000' })).text)).toBe('INVALID_TICKET');
      expect(failure((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket })).text)).toBeUndefined();
      expect(failure((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket })).text)).toBe('INVALID_TICKET');
      const late = await ssoTicket(agent, APP);
      const inTime = await ssoTicket(agent, APP);
      ctx.clock.advance(9_000);
      expect(failure((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket: inTime })).text)).toBeUndefined();
      ctx.clock.advance(1_500);
      expect(failure((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket: late })).text)).toBe('INVALID_TICKET');
      expect(failure((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket: 'TGT-abc' })).text)).toBe('INVALID_TICKET');
    });

    it('INVALID_SERVICE when the service does not match, and the ticket is then consumed', async () => {
      const ticket = await loginForTicket(ctx.agent(), APP);
      const wrong = await callEndpoint(ctx, '/cas/serviceValidate', { service: OTHER, ticket });
      expect(failure(wrong.text)).toBe('INVALID_SERVICE');
      expect(failure((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket })).text)).toBe('INVALID_TICKET');
    });

    it('INVALID_SERVICE when the service was unregistered after the ticket was issued', async () => {
      const ticket = await loginForTicket(ctx.agent(), APP);
      const registered = await ctx.services.serviceRegistry.match(APP);
      await ctx.services.serviceRegistry.delete(registered!.id);
      expect(failure((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket })).text)).toBe('INVALID_SERVICE');
    });

    it('UNAUTHORIZED_SERVICE_PROXY when a service without proxy rights passes a pgtUrl', async () => {
      const ticket = await loginForTicket(ctx.agent(), APP);
      const res = await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket, pgtUrl: 'https://app.example.org/pgt' });
      expect(failure(res.text)).toBe('UNAUTHORIZED_SERVICE_PROXY');
    });

    it('INTERNAL_ERROR as a CAS failure document (never an HTML page) when the ticket store fails', async () => {
      const ticket = await loginForTicket(ctx.agent(), APP);
      await ctx.services.db.knex.schema.renameTable('tickets', 'tickets_gone');
      for (const format of ['XML', 'JSON']) {
        const res = await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket, format });
        expect(res.status).toBe(500);
        if (format === 'XML') expect(failure(res.text)).toBe('INTERNAL_ERROR');
        else expect(JSON.parse(res.text).serviceResponse.authenticationFailure.code).toBe('INTERNAL_ERROR');
        expect(res.text).not.toMatch(/<html|at .*\.ts:\d+/);
      }
      const cas1 = await callEndpoint(ctx, '/cas/validate', { service: APP, ticket });
      expect(cas1.text).toBe('no\n\n');
      await ctx.services.db.knex.schema.renameTable('tickets_gone', 'tickets');
    });
  });

  describe('ticket rules', () => {
    it('a ticket validates exactly once even when 20 validations race for it', async () => {
      const ticket = await loginForTicket(ctx.agent(), APP);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => callEndpoint(ctx, i % 2 ? '/cas/serviceValidate' : '/cas/p3/serviceValidate', { service: APP, ticket })));
      expect(results.filter((r) => r.text.includes('<cas:authenticationSuccess>'))).toHaveLength(1);
      expect(results.filter((r) => r.text.includes('code="INVALID_TICKET"'))).toHaveLength(19);
    });

    it('honours tickets.serviceTicketLifetimeSeconds', async () => {
      await ctx.close();
      ctx = await createTestContext({ overrides: { tickets: { serviceTicketLifetimeSeconds: 60 } } });
      await ctx.addUser('alice', 'Correct-Horse-7');
      await registerService(ctx, { serviceUrl: APP });
      const ticket = await loginForTicket(ctx.agent(), APP);
      ctx.clock.advance(59_000);
      expect((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket })).text).toContain('<cas:user>alice</cas:user>');
    });

    it('logout destroys the tickets issued under the session', async () => {
      const agent = ctx.agent();
      await loginForTicket(agent, APP);
      const ticket = await ssoTicket(agent, APP);
      await agent.get('/cas/logout');
      expect((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket })).text).toContain('code="INVALID_TICKET"');
    });
  });

  describe('escaping', () => {
    it('a username like a<b&"c round-trips through XML, JSON, and the echoed ticket is escaped', async () => {
      const name = `a<b&"c'>]]>`;
      await ctx.addUser(name, 'Correct-Horse-7');
      const agent = ctx.agent();
      const xmlTicket = await loginForTicket(agent, APP, name);
      const xml = await callEndpoint(ctx, '/cas/p3/serviceValidate', { service: APP, ticket: xmlTicket });
      expect(xml.text).toContain(`<cas:user>a&lt;b&amp;"c'&gt;]]&gt;</cas:user>`);
      expect((parseCasXml(xml.text)['cas:authenticationSuccess'] as XmlObject)['cas:user']).toBe(name);
      const json = await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket: await ssoTicket(agent, APP), format: 'JSON' });
      expect(JSON.parse(json.text).serviceResponse.authenticationSuccess.user).toBe(name);
      const cas1 = await callEndpoint(ctx, '/cas/validate', { service: APP, ticket: await ssoTicket(agent, APP) });
      expect(cas1.text).toBe(`yes\n${name}\n`);
      const echoed = await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket: 'ST-<x>&"' });
      expect(echoed.text).toContain(`Ticket 'ST-&lt;x&gt;&amp;"' not recognized`);
      expect(() => parseCasXml(echoed.text)).not.toThrow();
    });
  });
});
