import { type TestContext, createTestContext } from '../support/test-app';
import { loginForTicket, registerService } from '../support/cas-helpers';

/**
 * The validation endpoints are mounted before the login pages (the hot path
 * of single sign-on skips the page routers), so they must mark their own
 * answers, failures included, as never to be stored, as /cas did for them.
 */

const APP = 'https://app.example.org/cas-login';
const SAML_BODY = '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><samlp:Request xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" RequestID="r1"><samlp:AssertionArtifact>ST-unknown</samlp:AssertionArtifact></samlp:Request></SOAP-ENV:Body></SOAP-ENV:Envelope>';

function expectNoStore(res: { headers: Record<string, string | string[] | undefined> }): void {
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers.pragma).toBe('no-cache');
  expect(res.headers.expires).toBe('0');
}

describe('CAS validation answers are never cached', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
    await ctx.services.accountService.create({ username: 'alice', password: 'Correct-Horse-7' }, { name: 'test' });
    await registerService(ctx, { serviceUrl: APP });
  });
  afterEach(() => ctx.close());

  it('on success and on every kind of failure, in every format', async () => {
    const agent = ctx.agent();
    const ticket = await loginForTicket(agent, APP);
    const success = await agent.get(`/cas/p3/serviceValidate?${new URLSearchParams({ service: APP, ticket })}`);
    expect(success.text).toContain('authenticationSuccess');
    expectNoStore(success);
    for (const path of ['/cas/validate', '/cas/serviceValidate', '/cas/proxyValidate', '/cas/p3/serviceValidate?format=JSON', '/cas/proxy']) {
      const failure = await agent.get(path);
      expect(failure.status).toBe(200);
      expectNoStore(failure);
    }
    const saml = await agent.post('/cas/samlValidate?TARGET=' + encodeURIComponent(APP)).set('Content-Type', 'text/xml').send(SAML_BODY);
    expect(saml.headers['content-type']).toMatch(/^text\/xml/);
    expectNoStore(saml);
  });
});
