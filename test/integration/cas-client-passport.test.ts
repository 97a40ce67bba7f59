import request from 'supertest';
import { type TestContext, createTestContext, executionFrom } from '../support/test-app';
import { registerService } from '../support/cas-helpers';
import { type TestCa, createTestCa } from '../support/cas-servers';
import { type ClientApp, startClientApp } from '../support/cas-client-app';

/**
 * A real third-party CAS client from npm (@coursetable/passport-cas, a
 * Passport strategy) in its own application process, against the running
 * server over HTTPS: browser → application → /cas/login → form → ticket →
 * the client's own back-channel validation (/validate, /serviceValidate,
 * /p3/serviceValidate, /samlValidate).
 */

describe('third-party CAS client (@coursetable/passport-cas)', () => {
  let ctx: TestContext;
  let appCa: TestCa;
  let app: ClientApp;

  beforeAll(async () => {
    ctx = await createTestContext();
    await ctx.services.accountService.create({ username: 'alice', password: 'Correct-Horse-7', displayName: 'Alice Liddell', email: 'alice@example.org' }, { name: 'test' });
    appCa = await createTestCa('Application CA');
    app = await startClientApp(`${ctx.url}/cas`, ctx.ca, await appCa.issue());
    // The application's routes, as one anchored pattern: /v1, /v2, /v3, /saml and nothing else on that host.
    await registerService(ctx, { name: 'passport-app', serviceUrl: `${app.url}/*`, releasedAttributes: ['displayName', 'mail'] });
  });
  afterAll(async () => {
    await app?.stop();
    await ctx?.close();
  });

  const browserOnApp = (path: string) => request(app.url).get(path).ca(appCa.caPem).redirects(0);

  /** What a browser does: app → CAS (form, or SSO with the cookie) → back to the app with the ticket. */
  async function signIn(route: string, casAgent: ReturnType<TestContext['agent']>): Promise<request.Response> {
    const toCas = await browserOnApp(`/${route}`);
    expect(toCas.status).toBe(302);
    const casLogin = new URL(toCas.headers.location as string);
    expect(`${casLogin.origin}${casLogin.pathname}`).toBe(`${ctx.url}/cas/login`);
    const service = casLogin.searchParams.get('service') as string;
    expect(service).toBe(`${app.url}/${route}`);
    const page = await casAgent.get(`${casLogin.pathname}${casLogin.search}`);
    const back =
      page.status === 303
        ? page
        : await casAgent.post('/cas/login').type('form').send({ username: 'alice', password: 'Correct-Horse-7', execution: executionFrom(page.text), service });
    expect(back.status).toBe(303);
    const withTicket = new URL(back.headers.location as string);
    expect(withTicket.searchParams.get('ticket')).toMatch(/^ST-/);
    return browserOnApp(`${withTicket.pathname}${withTicket.search}`);
  }

  it('CAS 3.0 (/p3/serviceValidate): logs in and receives the released attributes', async () => {
    const res = await signIn('v3', ctx.agent());
    expect(res.status).toBe(200);
    // xml2js in the client lower-cases element names.
    expect(res.body).toEqual({ route: 'v3', user: { user: 'alice', attributes: expect.objectContaining({ displayname: 'Alice Liddell', mail: 'alice@example.org', isfromnewlogin: 'true' }) } });
  });

  it('CAS 2.0 (/serviceValidate), CAS 1.0 (/validate) and SAML 1.1 (/samlValidate) through single sign-on', async () => {
    const casAgent = ctx.agent();
    expect((await signIn('v2', casAgent)).body).toEqual({ route: 'v2', user: { user: 'alice' } });
    expect((await signIn('v1', casAgent)).body).toEqual({ route: 'v1', user: { user: 'alice' } });
    const saml = await signIn('saml', casAgent);
    expect(saml.status).toBe(200);
    expect(saml.body.user.user).toBe('alice');
    expect(saml.body.user.attributes).toEqual(expect.objectContaining({ mail: 'alice@example.org', isfromnewlogin: 'false' }));
  });

  it('the client rejects a replayed ticket and a ticket minted for another service', async () => {
    const casAgent = ctx.agent();
    const toCas = await browserOnApp('/v2');
    const casLogin = new URL(toCas.headers.location as string);
    const page = await casAgent.get(`${casLogin.pathname}${casLogin.search}`);
    const back = await casAgent.post('/cas/login').type('form').send({ username: 'alice', password: 'Correct-Horse-7', execution: executionFrom(page.text), service: `${app.url}/v2` });
    const ticket = new URL(back.headers.location as string).searchParams.get('ticket') as string;
    expect((await browserOnApp(`/v2?ticket=${ticket}`)).status).toBe(200);
    // Replay: the server answers INVALID_TICKET, which the client turns into an error.
    const replay = await browserOnApp(`/v2?ticket=${ticket}`);
    expect(replay.status).toBe(500);
    expect(replay.body.error).toContain('INVALID_TICKET');
    const sso = await casAgent.get(`/cas/login?${new URLSearchParams({ service: `${app.url}/v3` })}`);
    const foreign = new URL(sso.headers.location as string).searchParams.get('ticket') as string;
    const misuse = await browserOnApp(`/v2?ticket=${foreign}`);
    expect(misuse.body.error).toContain('INVALID_SERVICE');
  });
});
