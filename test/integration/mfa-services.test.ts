import request from 'supertest';
import { XMLParser } from 'fast-xml-parser';
import { renderSamlSuccess } from '../../src/cas/saml';
import { totpCode } from '../../src/mfa/totp';
import { runInProcess, testCliContext } from '../support/cli';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { adminAndUser } from '../support/admin-api';
import { callEndpoint, parseCasXml, registerService, ssoTicket, ticketFromRedirect, type XmlObject } from '../support/cas-helpers';

/**
 * Services that require a second factor (`mfa: required`): the login steps
 * up for them, validation refuses a ticket from a sign-in without one with
 * Apereo's INVALID_AUTHENTICATION_CONTEXT (XML, JSON, SAML 1.1), and the
 * authentication attributes tell services how the user signed in.
 */

const PASSWORD = 'Correct-Horse-7';
const STEP = 30_000;
const APP = 'https://app.example.org/login';
const HOW = ['authenticationMethod', 'successfulAuthenticationHandlers', 'authnContextClass'];

const tokenIn = (page: string) => /name="token" value="([^"]+)"/.exec(page)![1];
const secretIn = (page: string) => /<code id="secret">([A-Z2-7 ]+)<\/code>/.exec(page)![1].replace(/ /g, '');

const samlEnvelope = (ticket: string) =>
  `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header/><SOAP-ENV:Body>` +
  `<samlp:Request xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" MajorVersion="1" MinorVersion="1" RequestID="_r1" IssueInstant="2002-06-19T17:03:44.022Z">` +
  `<samlp:AssertionArtifact>${ticket}</samlp:AssertionArtifact></samlp:Request></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
const samlParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false, isArray: (name) => name === 'Attribute' || name === 'AttributeValue' });
type Node = Record<string, unknown> & { [k: string]: Node };

describe('services that require a second factor', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { mfa: { require: 'admins' } } });
    ctx.clock.advance(STEP - (ctx.clock.now() % STEP) + STEP / 2);
    await ctx.addUser('alice', PASSWORD);
  });
  afterEach(() => ctx.close());

  const saml = (ticket: string) =>
    request(ctx.url).post(`/cas/samlValidate?${new URLSearchParams({ TARGET: APP })}`).ca(ctx.ca).set('Content-Type', 'text/xml').send(samlEnvelope(ticket));
  const samlResponse = (xml: string) => (samlParser.parse(xml) as Node).Envelope.Body.Response;
  const success = (xml: string) => parseCasXml(xml)['cas:authenticationSuccess'] as XmlObject;
  const attributesOf = (xml: string) => success(xml)['cas:attributes'] as XmlObject;

  /** Enrols a TOTP factor for alice directly (as the /me API would); returns its secret. */
  async function enrolAlice(): Promise<string> {
    const alice = await ctx.services.accountService.requireByUsername('alice');
    const { secret } = await ctx.services.mfa.beginTotp(alice);
    const who = { clientIp: null, userAgent: null, channel: 'test' };
    expect(await ctx.services.mfa.confirmTotp(alice, secret, totpCode(secret, ctx.clock.now()), 'phone', who)).not.toBeNull();
    ctx.clock.advance(STEP);
    return secret;
  }

  it('asks a password-only sign-in for the second factor (enrolment first) before a ticket for a required service', async () => {
    await registerService(ctx, { serviceUrl: APP, mfa: 'required', releasedAttributes: HOW });
    const agent = ctx.agent();
    const first = await submitLogin(agent, 'alice', PASSWORD, { service: APP });
    expect(first.status).toBe(200);
    expect(first.text).toContain('Set up a second factor');
    const secret = secretIn(first.text);
    const done = await agent.post('/cas/mfa/enrol').type('form').send({ token: tokenIn(first.text), code: totpCode(secret, ctx.clock.now()) });
    expect(done.text).toContain('Save your recovery codes');
    const ticket = await ssoTicket(agent, APP);
    const res = await callEndpoint(ctx, '/cas/p3/serviceValidate', { service: APP, ticket });
    const attributes = attributesOf(res.text);
    expect(attributes['cas:authnContextClass']).toBe('mfa');
    expect(attributes['cas:authenticationMethod']).toEqual(['password', 'totp']);
    expect(attributes['cas:successfulAuthenticationHandlers']).toEqual(['password', 'totp']);
  });

  it('fails a password-only ticket with INVALID_AUTHENTICATION_CONTEXT in XML, JSON and SAML; step-up then succeeds without the password', async () => {
    const service = await registerService(ctx, { serviceUrl: APP, releasedAttributes: HOW });
    const agent = ctx.agent();
    const tickets = [ticketFromRedirect(await submitLogin(agent, 'alice', PASSWORD, { service: APP })), await ssoTicket(agent, APP), await ssoTicket(agent, APP)];
    await ctx.services.serviceRegistry.update(service.id, { mfa: 'required' });

    const xml = parseCasXml((await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket: tickets[0] })).text);
    expect((xml['cas:authenticationFailure'] as XmlObject)['@code']).toBe('INVALID_AUTHENTICATION_CONTEXT');
    const json = JSON.parse((await callEndpoint(ctx, '/cas/p3/serviceValidate', { service: APP, ticket: tickets[1], format: 'JSON' })).text);
    expect(json.serviceResponse.authenticationFailure.code).toBe('INVALID_AUTHENTICATION_CONTEXT');
    const refused = samlResponse((await saml(tickets[2])).text);
    expect(refused.Status.StatusCode.StatusCode['@Value']).toBe('samlp:RequestDenied');
    expect(refused.Status.StatusMessage).toContain('INVALID_AUTHENTICATION_CONTEXT');
    expect(refused.Assertion).toBeUndefined();

    // Step-up: the same session, only the code (no password field), then a ticket the service accepts.
    const secret = await enrolAlice();
    const stepUp = await agent.get(`/cas/login?${new URLSearchParams({ service: APP })}`);
    expect(stepUp.status).toBe(200);
    expect(stepUp.text).toContain('Confirm it is you');
    expect(stepUp.text).not.toContain('name="password"');
    const ticket = ticketFromRedirect(await agent.post('/cas/mfa').type('form').send({ token: tokenIn(stepUp.text), code: totpCode(secret, ctx.clock.now()) }));
    const accepted = await callEndpoint(ctx, '/cas/serviceValidate', { service: APP, ticket });
    expect(success(accepted.text)['cas:user']).toBe('alice');
    // The session now has the second factor: single sign-on goes straight on, and SAML releases how.
    const assertion = samlResponse((await saml(await ssoTicket(agent, APP))).text).Assertion;
    const released = Object.fromEntries((assertion.AttributeStatement.Attribute as unknown as Node[]).map((a) => [a['@AttributeName'], a.AttributeValue]));
    expect(released.authnContextClass).toEqual(['mfa']);
    expect(released.successfulAuthenticationHandlers).toEqual(['password', 'totp']);
    // SAML 1.1 has no multi-factor method: Apereo's `unspecified`, never `password`.
    expect(assertion.AuthenticationStatement['@AuthenticationMethod']).toBe('urn:oasis:names:tc:SAML:1.0:am:unspecified');
  });

  it('gateway=true with a password-only session returns to a required service without a ticket, not to the step-up page', async () => {
    const service = await registerService(ctx, { serviceUrl: APP });
    const agent = ctx.agent();
    ticketFromRedirect(await submitLogin(agent, 'alice', PASSWORD, { service: APP }));
    await ctx.services.serviceRegistry.update(service.id, { mfa: 'required' });
    await enrolAlice();
    const gateway = await agent.get(`/cas/login?${new URLSearchParams({ service: APP, gateway: 'true' })}`);
    expect(gateway.status).toBe(303);
    expect(gateway.headers.location).toBe(APP);
    // Without gateway the same session steps up.
    expect((await agent.get(`/cas/login?${new URLSearchParams({ service: APP })}`)).text).toContain('Confirm it is you');
  });

  it('releases how a password-only session signed in (no authnContextClass) on p3/proxyValidate and JSON, only when listed', async () => {
    await registerService(ctx, { serviceUrl: APP, releasedAttributes: ['authenticationMethod', 'authnContextClass'] });
    const agent = ctx.agent();
    const ticket = ticketFromRedirect(await submitLogin(agent, 'alice', PASSWORD, { service: APP }));
    const attributes = attributesOf((await callEndpoint(ctx, '/cas/p3/proxyValidate', { service: APP, ticket })).text);
    expect(attributes['cas:authenticationMethod']).toBe('password');
    expect(attributes).not.toHaveProperty('cas:authnContextClass');
    expect(attributes).not.toHaveProperty('cas:successfulAuthenticationHandlers');
    const json = JSON.parse((await callEndpoint(ctx, '/cas/p3/serviceValidate', { service: APP, ticket: await ssoTicket(agent, APP), format: 'JSON' })).text);
    expect(json.serviceResponse.authenticationSuccess.attributes.authenticationMethod).toBe('password');
    expect(json.serviceResponse.authenticationSuccess.attributes).not.toHaveProperty('authnContextClass');
  });

  it('names the SAML 1.1 AuthenticationMethod after how the session signed in', () => {
    const method = (methods: string[]) => {
      const xml = renderSamlSuccess({ now: 0, requestId: '_r', target: APP, issuer: 'localhost', user: 'alice', validitySeconds: 30, attributes: { authenticationDate: 0, longTermAuthenticationRequestTokenUsed: false, isFromNewLogin: true, methods, values: {} } });
      return samlResponse(xml).Assertion.AuthenticationStatement['@AuthenticationMethod'];
    };
    expect(method(['password'])).toBe('urn:oasis:names:tc:SAML:1.0:am:password');
    expect(method(['passkey'])).toBe('urn:oasis:names:tc:SAML:1.0:am:HardwareToken');
    expect(method(['spnego'])).toBe('urn:ietf:rfc:1510');
    expect(method(['password', 'webauthn'])).toBe('urn:oasis:names:tc:SAML:1.0:am:unspecified');
  });

  it('sets mfa through the API (validated) and the CLI (--mfa), and shows it', async () => {
    // An API token for an administrator without a factor needs mfa.require other than admins.
    await ctx.close();
    ctx = await createTestContext({ overrides: { mfa: { require: 'never' } } });
    const { admin } = await adminAndUser(ctx);
    const created = await admin.post('/services', { name: 'hr', serviceUrl: 'https://hr.example.org/', mfa: 'required' });
    expect(created.status).toBe(201);
    expect(created.body.mfa).toBe('required');
    expect((await admin.post('/services', { name: 'bad', serviceUrl: 'https://bad.example.org/', mfa: 'sometimes' })).status).toBe(422);
    expect((await admin.get(`/services/${created.body.id}`)).body.mfa).toBe('required');

    const lines: string[] = [];
    const io = { out: (text: string) => lines.push(...text.trimEnd().split('\n')), err: () => undefined, interactive: false };
    const run = (args: string[]) => runInProcess(['service', ...args], testCliContext({}, io, ctx.services));
    await run(['add', 'Payroll', '--url', 'https://payroll.example.org/', '--mfa', 'required']);
    expect(lines.pop()).toContain('\tmfa=required');
    await expect(run(['update', 'Payroll', '--mfa', 'always'])).rejects.toThrow(/--mfa must be required or optional/);
    await run(['update', 'Payroll', '--mfa', 'optional']);
    lines.length = 0;
    await run(['show', 'Payroll']);
    expect(lines).toContain('mfa: optional');
  });
});
