import request from 'supertest';
import { type TestContext, createTestContext } from '../support/test-app';
import { callEndpoint, loginForTicket, registerService, ssoTicket } from '../support/cas-helpers';
import { type Receiver, startReceiver } from '../support/cas-servers';
import { SoftAuthenticator } from '../support/soft-authenticator';

/**
 * Issue 16 item 3: every absolute URL Portcullis builds comes from
 * server.publicUrl (or its listening address), never from the request's Host or
 * X-Forwarded-Host, even with trust proxy on.
 */

const PUBLIC = 'https://sso.example.org';
const APP = 'https://app.example.org/login';
const FORGED = { Host: 'evil.example', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' };

/** The forged Host also becomes the TLS server name, which the test certificate does not carry: skip that check. */
function forged(test: request.Test): request.Test {
  return test.set(FORGED).disableTLSCerts();
}

describe('absolute URLs ignore forged Host and X-Forwarded-Host', () => {
  let ctx: TestContext;
  let receiver: Receiver;
  let sloApp: string;
  beforeAll(async () => {
    receiver = await startReceiver();
    sloApp = `${receiver.url}/app/login`;
  });
  afterAll(() => receiver.close());
  afterEach(() => ctx.close());

  async function setUp(publicUrl?: string): Promise<void> {
    ctx = await createTestContext({ overrides: { server: { trustProxy: true, ...(publicUrl ? { publicUrl } : {}) } } });
    await ctx.services.accountService.create({ username: 'alice', password: 'Correct-Horse-7', email: 'alice@example.org' }, { name: 'test' });
    await registerService(ctx, { serviceUrl: APP, releasedAttributes: ['mail'] });
    await registerService(ctx, { serviceUrl: sloApp });
  }

  const restLogin = () => forged(request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form')).send({ username: 'alice', password: 'Correct-Horse-7' });

  it('REST Location comes from server.publicUrl', async () => {
    await setUp(`${PUBLIC}/`);
    const res = await restLogin();
    expect(res.status).toBe(201);
    expect(res.headers.location).toMatch(new RegExp(`^${PUBLIC}/cas/v1/tickets/TGT-`));
  });

  it('REST Location comes from the listening address when publicUrl is unset', async () => {
    await setUp();
    const res = await restLogin();
    expect(res.status).toBe(201);
    expect(res.headers.location).toMatch(new RegExp(`^${ctx.url}/cas/v1/tickets/TGT-`));
  });

  it('the SAML assertion names the listening host as Issuer (publicUrl unset) and the TARGET as Recipient', async () => {
    await setUp();
    const ticket = await loginForTicket(ctx.agent(), APP);
    const body =
      `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>` +
      `<samlp:Request xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" MajorVersion="1" MinorVersion="1" RequestID="_1" IssueInstant="2002-06-19T17:03:44.022Z">` +
      `<samlp:AssertionArtifact>${ticket}</samlp:AssertionArtifact></samlp:Request></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
    const res = await forged(request(ctx.url).post(`/cas/samlValidate?${new URLSearchParams({ TARGET: APP })}`).ca(ctx.ca).set('Content-Type', 'text/xml')).send(body);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Issuer="127.0.0.1"');
    expect(res.text).toContain(`Recipient="${APP}"`);
    expect(res.text).not.toContain('evil');
  });

  it('the WebAuthn relying party is the same public URL (the listening address when publicUrl is unset)', async () => {
    await setUp();
    const options = await forged(request(ctx.url).post('/cas/webauthn/options').ca(ctx.ca).type('form')).send({ ceremony: 'passkey' });
    expect(options.status).toBe(200);
    expect(options.body.rpId).toBe(new URL(ctx.url).hostname);
    // The origin a ceremony must come from carries the real (listening) port.
    const account = await ctx.services.accountService.requireByUsername('alice');
    const registration = await ctx.services.webauthn.registrationOptions(account);
    const credential = new SoftAuthenticator(ctx.url).register(registration);
    expect(await ctx.services.webauthn.register(account, credential, 'Desk key', { clientIp: null, userAgent: null, channel: 'test' })).not.toBeNull();
  });

  it('OpenAPI servers is the public API URL', async () => {
    await setUp(PUBLIC);
    const res = await forged(request(ctx.url).get('/api/v1/openapi.json').ca(ctx.ca));
    expect(res.status).toBe(200);
    expect(res.body.servers).toEqual([{ url: `${PUBLIC}/api/v1` }]);
  });

  it('logout redirects to the registered service and single-logout messages carry no forged name', async () => {
    await setUp(PUBLIC);
    receiver.requests.length = 0;
    receiver.reply(200);
    const agent = ctx.agent();
    const ticket = await loginForTicket(agent, sloApp);
    expect((await callEndpoint(ctx, '/cas/serviceValidate', { service: sloApp, ticket })).status).toBe(200);
    await ssoTicket(agent, APP);
    const res = await forged(agent.get(`/cas/logout?${new URLSearchParams({ service: APP })}`));
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(APP);
    const [delivered] = await receiver.waitForRequests(1);
    expect(delivered.form.get('logoutRequest')).toContain(ticket);
    expect(JSON.stringify(delivered.form.get('logoutRequest'))).not.toContain('evil');
  });
});
