import request from 'supertest';
import { XMLParser } from 'fast-xml-parser';
import { type TestContext, createTestContext } from '../support/test-app';
import { callEndpoint, loginForTicket, registerService } from '../support/cas-helpers';

/**
 * REST tickets (Apereo's /cas/v1/tickets protocol) and /samlValidate
 * (CAS 3.0 §4.2, SAML 1.1 in SOAP, as the .NET CAS client sends it).
 */

const APP = 'https://app.example.org/login';

describe('REST tickets', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 900 } } });
    await ctx.addUser('alice', 'Correct-Horse-7');
    await registerService(ctx, { serviceUrl: APP });
  });
  afterEach(() => ctx.close());

  const post = (path: string, form: Record<string, string>) => request(ctx.url).post(path).ca(ctx.ca).type('form').send(form);

  it('creates a TGT (201 + Location), issues service tickets from it, reports status and deletes it', async () => {
    const created = await post('/cas/v1/tickets', { username: 'alice', password: 'Correct-Horse-7' });
    expect(created.status).toBe(201);
    const location = created.headers.location as string;
    expect(location).toMatch(new RegExp(`^${ctx.url}/cas/v1/tickets/TGT-[A-Za-z0-9]{40,}$`));
    expect(created.text.trim()).toBe(location.split('/').pop());
    const tgtPath = new URL(location).pathname;

    const st = await post(tgtPath, { service: APP });
    expect(st.status).toBe(200);
    expect(st.headers['content-type']).toMatch(/^text\/plain/);
    const ticket = st.text.trim();
    expect(ticket).toMatch(/^ST-[A-Za-z0-9]{32,}$/);
    const validated = await callEndpoint(ctx, '/cas/p3/serviceValidate', { service: APP, ticket });
    expect(validated.text).toContain('<cas:user>alice</cas:user>');
    expect(validated.text).toContain('<cas:isFromNewLogin>false</cas:isFromNewLogin>');

    expect((await request(ctx.url).get(tgtPath).ca(ctx.ca)).status).toBe(200);
    expect((await request(ctx.url).delete(tgtPath).ca(ctx.ca)).status).toBe(200);
    expect((await request(ctx.url).get(tgtPath).ca(ctx.ca)).status).toBe(404);
    expect((await post(tgtPath, { service: APP })).status).toBe(404);
  });

  it('refuses an unregistered service, missing parameters and non-form bodies', async () => {
    const tgtPath = new URL((await post('/cas/v1/tickets', { username: 'alice', password: 'Correct-Horse-7' })).headers.location as string).pathname;
    const unregistered = await post(tgtPath, { service: 'https://evil.example.net/' });
    expect(unregistered.status).toBe(400);
    expect(unregistered.text).toContain('not registered');
    expect((await post(tgtPath, {})).status).toBe(400);
    expect((await post('/cas/v1/tickets', { username: 'alice' })).status).toBe(400);
    const json = await request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).set('Content-Type', 'application/json').send('{"username":"alice","password":"x"}');
    expect(json.status).toBe(415);
    expect(json.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('uses the same lockout as the login page: 401 for bad credentials, 423 once locked (even with the right password)', async () => {
    for (let i = 0; i < 3; i++) expect((await post('/cas/v1/tickets', { username: 'alice', password: `wrong-${i}-pw` })).status).toBe(401);
    expect((await post('/cas/v1/tickets', { username: 'alice', password: 'Correct-Horse-7' })).status).toBe(423);
    expect((await post('/cas/v1/tickets', { username: 'nobody', password: 'whatever-1' })).status).toBe(401);
  });

  it('refuses with 403 an account whose password must be changed first, and creates no session', async () => {
    await ctx.addUser('bob', 'Temporary-Pass-9', { mustChangePassword: true });
    const res = await post('/cas/v1/tickets', { username: 'bob', password: 'Temporary-Pass-9' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('login page');
    expect(res.headers.location).toBeUndefined();
    expect(await ctx.services.tickets.countActive('TGT', ctx.clock.now())).toBe(0);
  });

  describe('renew: a service ticket for a fresh check of the credentials', () => {
    const tgtPathFor = async (username: string, password: string) => new URL((await post('/cas/v1/tickets', { username, password })).headers.location as string).pathname;
    const validate = (ticket: string, renew: boolean) => callEndpoint(ctx, '/cas/p3/serviceValidate', { service: APP, ticket, ...(renew ? { renew: 'true' } : {}) });

    it('with the owner’s credentials: the ticket passes validation with renew=true and says it came from a new login', async () => {
      const tgtPath = await tgtPathFor('alice', 'Correct-Horse-7');
      ctx.clock.advance(60_000);
      const st = await post(tgtPath, { service: APP, renew: 'true', username: 'alice', password: 'Correct-Horse-7' });
      expect(st.status).toBe(200);
      const validated = await validate(st.text.trim(), true);
      expect(validated.text).toContain('<cas:user>alice</cas:user>');
      expect(validated.text).toContain('<cas:isFromNewLogin>true</cas:isFromNewLogin>');
      // The authentication date is the new check's, not the TGT's.
      const date = /<cas:authenticationDate>([^<]+)</.exec(validated.text)?.[1];
      expect(Date.parse(date ?? '')).toBe(ctx.clock.now());

      // Without renew the same TGT still gives ordinary tickets, which renew=true validation refuses.
      const plain = (await post(tgtPath, { service: APP })).text.trim();
      expect((await validate(plain, true)).text).toContain('code="INVALID_TICKET"');
    });

    it('refuses missing, wrong and other users’ credentials; wrong ones count towards the lockout', async () => {
      await ctx.addUser('bob', 'Battery-Staple-8');
      const tgtPath = await tgtPathFor('alice', 'Correct-Horse-7');
      const missing = await post(tgtPath, { service: APP, renew: 'true' });
      expect(missing.status).toBe(400);
      expect(missing.text).toContain("'username' and 'password'");

      const otherUser = await post(tgtPath, { service: APP, renew: 'true', username: 'bob', password: 'Battery-Staple-8' });
      expect(otherUser.status).toBe(403);
      expect(otherUser.text).toContain('another user');
      expect(otherUser.text).not.toMatch(/ST-/);

      for (let i = 0; i < 3; i++) expect((await post(tgtPath, { service: APP, renew: 'true', username: 'alice', password: `wrong-${i}-pw` })).status).toBe(401);
      expect((await post(tgtPath, { service: APP, renew: 'true', username: 'alice', password: 'Correct-Horse-7' })).status).toBe(423);
      // An unknown TGT or service is refused before any password is checked: three of each would lock bob if they counted.
      for (let i = 0; i < 3; i++) {
        expect((await post('/cas/v1/tickets/TGT-unknown', { service: APP, renew: 'true', username: 'bob', password: `wrong-${i}-pw` })).status).toBe(404);
        expect((await post(tgtPath, { service: 'https://evil.example.net/', renew: 'true', username: 'bob', password: `wrong-${i}-pw` })).status).toBe(400);
      }
      expect((await post('/cas/v1/tickets', { username: 'bob', password: 'Battery-Staple-8' })).status).toBe(201);
    });
  });
});

describe('/samlValidate', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
    await ctx.services.accountService.create({ username: 'alice', password: 'Correct-Horse-7', email: 'alice@example.org' }, { name: 'test' });
    await registerService(ctx, { serviceUrl: APP, releasedAttributes: ['mail'] });
  });
  afterEach(() => ctx.close());

  const envelope = (ticket: string, requestId = '_192.168.16.51.1024506224022') =>
    `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header/><SOAP-ENV:Body>` +
    `<samlp:Request xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" MajorVersion="1" MinorVersion="1" RequestID="${requestId}" IssueInstant="2002-06-19T17:03:44.022Z">` +
    `<samlp:AssertionArtifact>${ticket}</samlp:AssertionArtifact></samlp:Request></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
  const samlValidate = (target: string | null, body: string) =>
    request(ctx.url)
      .post(`/cas/samlValidate${target === null ? '' : `?${new URLSearchParams({ TARGET: target })}`}`)
      .ca(ctx.ca)
      .set('Content-Type', 'text/xml')
      .send(body);
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false, isArray: (name) => name === 'Attribute' || name === 'AttributeValue' });
  type Node = Record<string, unknown> & { [k: string]: Node };
  const responseOf = (xml: string) => (parser.parse(xml) as Node).Envelope.Body.Response;

  it('answers a SAML 1.1 request with a SAML 1.1 assertion: subject, audience, validity window, attributes', async () => {
    const ticket = await loginForTicket(ctx.agent(), APP);
    const res = await samlValidate(APP, envelope(ticket));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    const response = responseOf(res.text);
    expect(response['@InResponseTo']).toBe('_192.168.16.51.1024506224022');
    expect(response['@MajorVersion']).toBe('1');
    expect(response['@MinorVersion']).toBe('1');
    expect(response.Status.StatusCode['@Value']).toBe('samlp:Success');
    const assertion = response.Assertion;
    expect(assertion.Conditions.AudienceRestrictionCondition.Audience).toBe(APP);
    expect(Date.parse(assertion.Conditions['@NotOnOrAfter'] as unknown as string)).toBeGreaterThan(Date.parse(assertion.Conditions['@NotBefore'] as unknown as string));
    expect(assertion.AuthenticationStatement.Subject.NameIdentifier).toBe('alice');
    expect(assertion.AuthenticationStatement['@AuthenticationMethod']).toBe('urn:oasis:names:tc:SAML:1.0:am:password');
    const attributes = Object.fromEntries((assertion.AttributeStatement.Attribute as unknown as Node[]).map((a) => [a['@AttributeName'], a.AttributeValue]));
    expect(attributes.mail).toEqual(['alice@example.org']);
    expect(attributes.isFromNewLogin).toEqual(['true']);
  });

  it('fails a reused ticket, a wrong TARGET, a plain-http TARGET and a missing TARGET, as SAML failures (never HTML)', async () => {
    const ticket = await loginForTicket(ctx.agent(), APP);
    expect(responseOf((await samlValidate(APP, envelope(ticket))).text).Status.StatusCode['@Value']).toBe('samlp:Success');
    const reused = responseOf((await samlValidate(APP, envelope(ticket))).text);
    expect(reused.Status.StatusCode['@Value']).toBe('samlp:Requester');
    expect(reused.Status.StatusCode.StatusCode['@Value']).toBe('samlp:RequestDenied');
    expect(reused.Status.StatusMessage).toContain('INVALID_TICKET');
    expect(reused.Assertion).toBeUndefined();

    const other = await loginForTicket(ctx.agent(), APP);
    expect(responseOf((await samlValidate('https://other.example.org/', envelope(other))).text).Status.StatusMessage).toContain('INVALID_SERVICE');
    for (const target of ['http://app.example.org/login', null]) {
      const res = await samlValidate(target, envelope('ST-x'));
      expect(res.status).toBe(200);
      const refused = responseOf(res.text);
      expect(refused.Status.StatusCode['@Value']).toBe('samlp:Requester');
      expect(refused.Status.StatusMessage).toContain('INVALID_REQUEST');
    }
  });

  it('refuses DTDs and entity tricks without expanding them, and malformed XML', async () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` + envelope('&lol2;');
    const xxe = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + envelope('&xxe;');
    for (const body of [bomb, xxe, '<not-xml', '']) {
      const res = await samlValidate(APP, body);
      expect(res.status).toBe(200);
      const refused = responseOf(res.text);
      expect(refused.Status.StatusCode['@Value']).toBe('samlp:Requester');
      expect(res.text).not.toContain('root:');
    }
  });
});
