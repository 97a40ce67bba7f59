import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, createTestContext } from '../support/test-app';
import { callEndpoint, loginForTicket, parseCasXml, registerService, type XmlObject } from '../support/cas-helpers';
import { type Receiver, type TestCa, createTestCa, startReceiver } from '../support/cas-servers';

/**
 * Proxy authentication (spec §2.5.4, §2.6, §2.7, §2.9): PGT delivery to an
 * HTTPS callback with a verified certificate before the validation answer,
 * proxy tickets, proxy chains, and the proxy error codes.
 */

const PORTAL = 'https://portal.example.org/app';
const BACKEND = 'https://backend.example.org/api';
const DATABASE = 'https://database.example.org/api';
const PLAIN = 'https://plain.example.org/';

describe('CAS proxy authentication', () => {
  let ca: TestCa;
  let dir: string;
  let callback: Receiver;
  let ctx: TestContext;

  beforeAll(async () => {
    ca = await createTestCa();
    dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-cas-ca-'));
    writeFileSync(path.join(dir, 'ca.pem'), ca.caPem);
    callback = await startReceiver({ tls: await ca.issue() });
  });
  afterAll(async () => {
    await callback.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    callback.requests.length = 0;
    callback.reply(200);
    ctx = await createTestContext({ overrides: { cas: { outboundCaFile: path.join(dir, 'ca.pem'), proxyCallbackTimeoutSeconds: 2 } } });
    await ctx.addUser('alice', 'Correct-Horse-7');
    await registerService(ctx, { serviceUrl: PORTAL, proxyCallback: `${callback.url}/portal/**` });
    await registerService(ctx, { serviceUrl: BACKEND, acceptsProxyTickets: true, proxyCallback: `${callback.url}/backend/**`, releasedAttributes: ['username'] });
    await registerService(ctx, { serviceUrl: DATABASE, acceptsProxyTickets: true });
    await registerService(ctx, { serviceUrl: PLAIN });
  });
  afterEach(() => ctx.close());

  const success = (text: string) => parseCasXml(text)['cas:authenticationSuccess'] as XmlObject;
  const failureCode = (text: string) => /<cas:(?:authentication|proxy)Failure code="([A-Z_]+)">/.exec(text)?.[1];

  /** Validates a portal ticket with a pgtUrl and returns the PGT the callback received. */
  async function portalPgt(): Promise<{ pgt: string; iou: string; pgtUrl: string }> {
    const ticket = await loginForTicket(ctx.agent(), PORTAL);
    const pgtUrl = `${callback.url}/portal/callback?keep=1`;
    const before = callback.requests.length;
    const res = await callEndpoint(ctx, '/cas/serviceValidate', { service: PORTAL, ticket, pgtUrl });
    // The callback has been made, and answered, before the validation response exists.
    expect(callback.requests.length).toBe(before + 1);
    const received = callback.requests[before];
    const iou = success(res.text)['cas:proxyGrantingTicket'] as string;
    expect(received.query.get('pgtIou')).toBe(iou);
    return { pgt: received.query.get('pgtId') as string, iou, pgtUrl };
  }

  it('delivers PGT and PGTIOU to the HTTPS callback (keeping its own query parameters) before answering with the IOU', async () => {
    const { pgt, iou } = await portalPgt();
    const received = callback.requests[0];
    expect(received.method).toBe('GET');
    expect(received.url.startsWith('/portal/callback?keep=1&pgtId=')).toBe(true);
    expect(pgt).toMatch(/^PGT-[A-Za-z0-9]{32,}$/);
    expect(iou).toMatch(/^PGTIOU-[A-Za-z0-9]{32,}$/);
    expect(iou).not.toContain(pgt.slice(4));
  });

  it('issues proxy tickets that only /proxyValidate accepts, with the proxy chain most recent first, in XML and JSON', async () => {
    const first = await portalPgt();
    const proxy = await callEndpoint(ctx, '/cas/proxy', { pgt: first.pgt, targetService: BACKEND });
    const pt = (parseCasXml(proxy.text)['cas:proxySuccess'] as XmlObject)['cas:proxyTicket'] as string;
    expect(pt).toMatch(/^PT-[A-Za-z0-9]{32,}$/);

    // The backend validates the PT and asks for its own PGT: a chain of two proxies.
    const backendPgtUrl = `${callback.url}/backend/cb`;
    const validated = await callEndpoint(ctx, '/cas/p3/proxyValidate', { service: BACKEND, ticket: pt, pgtUrl: backendPgtUrl });
    const s = success(validated.text);
    expect(s['cas:user']).toBe('alice');
    expect((s['cas:proxies'] as XmlObject)['cas:proxy']).toEqual([first.pgtUrl]);
    expect((s['cas:attributes'] as XmlObject)['cas:username']).toBe('alice');
    const second = callback.requests[callback.requests.length - 1].query.get('pgtId') as string;

    const pt2 = (parseCasXml((await callEndpoint(ctx, '/cas/proxy', { pgt: second, targetService: DATABASE })).text)['cas:proxySuccess'] as XmlObject)['cas:proxyTicket'] as string;
    const chained = await callEndpoint(ctx, '/cas/proxyValidate', { service: DATABASE, ticket: pt2, format: 'JSON' });
    expect(JSON.parse(chained.text)).toEqual({ serviceResponse: { authenticationSuccess: { user: 'alice', proxies: [backendPgtUrl, first.pgtUrl] } } });

    // A PGT is multi-use; its PTs are single-use.
    const pt3 = await callEndpoint(ctx, '/cas/proxy', { pgt: second, targetService: DATABASE, format: 'JSON' });
    expect(JSON.parse(pt3.text).serviceResponse.proxySuccess.proxyTicket).toMatch(/^PT-/);
    expect(failureCode((await callEndpoint(ctx, '/cas/proxyValidate', { service: DATABASE, ticket: pt2 })).text)).toBe('INVALID_TICKET');
  });

  it('refuses a proxy ticket at /serviceValidate and /p3/serviceValidate with INVALID_TICKET_SPEC, consuming it', async () => {
    const { pgt } = await portalPgt();
    for (const endpoint of ['/cas/serviceValidate', '/cas/p3/serviceValidate']) {
      const pt = (parseCasXml((await callEndpoint(ctx, '/cas/proxy', { pgt, targetService: BACKEND })).text)['cas:proxySuccess'] as XmlObject)['cas:proxyTicket'] as string;
      const res = await callEndpoint(ctx, endpoint, { service: BACKEND, ticket: pt });
      expect(failureCode(res.text)).toBe('INVALID_TICKET_SPEC');
      expect(res.text).toContain('is a proxy ticket');
      expect(failureCode((await callEndpoint(ctx, '/cas/proxyValidate', { service: BACKEND, ticket: pt })).text)).toBe('INVALID_TICKET');
    }
    const pt = (parseCasXml((await callEndpoint(ctx, '/cas/proxy', { pgt, targetService: BACKEND })).text)['cas:proxySuccess'] as XmlObject)['cas:proxyTicket'] as string;
    expect((await callEndpoint(ctx, '/cas/validate', { service: BACKEND, ticket: pt })).text).toBe('no\n\n');
  });

  it('/proxy errors: INVALID_REQUEST, UNAUTHORIZED_SERVICE, INVALID_TICKET; JSON uses authenticationFailure as in the spec', async () => {
    const { pgt } = await portalPgt();
    expect(failureCode((await callEndpoint(ctx, '/cas/proxy', { pgt })).text)).toBe('INVALID_REQUEST');
    const json = await callEndpoint(ctx, '/cas/proxy', { targetService: BACKEND, format: 'JSON' });
    expect(JSON.parse(json.text)).toEqual({ serviceResponse: { authenticationFailure: { code: 'INVALID_REQUEST', description: "'pgt' and 'targetService' parameters are both required" } } });
    expect((await callEndpoint(ctx, '/cas/proxy', { pgt })).text).toContain('<cas:proxyFailure code="INVALID_REQUEST">');
    expect(failureCode((await callEndpoint(ctx, '/cas/proxy', { pgt, targetService: PLAIN })).text)).toBe('UNAUTHORIZED_SERVICE');
    expect(failureCode((await callEndpoint(ctx, '/cas/proxy', { pgt, targetService: 'https://unknown.example.org/' })).text)).toBe('UNAUTHORIZED_SERVICE');
    expect(failureCode((await callEndpoint(ctx, '/cas/proxy', { pgt: 'PGT-unknown', targetService: BACKEND })).text)).toBe('INVALID_TICKET');
  });

  it('INVALID_PROXY_CALLBACK for a plain-http pgtUrl, one outside the registered pattern, and an untrusted certificate; the ticket is consumed', async () => {
    const cases = [
      `http://127.0.0.1:1/portal/x`,
      `${callback.url}/elsewhere/x`,
      `${callback.url.replace('127.0.0.1', 'localhost')}/portal/x`,
    ];
    for (const pgtUrl of cases) {
      const ticket = await loginForTicket(ctx.agent(), PORTAL);
      const res = await callEndpoint(ctx, '/cas/serviceValidate', { service: PORTAL, ticket, pgtUrl });
      expect(failureCode(res.text)).toBe('INVALID_PROXY_CALLBACK');
      expect(res.text).not.toContain('proxyGrantingTicket');
      expect(failureCode((await callEndpoint(ctx, '/cas/serviceValidate', { service: PORTAL, ticket })).text)).toBe('INVALID_TICKET');
    }
    expect(callback.requests).toHaveLength(0);

    const stranger = await startReceiver({ tls: await (await createTestCa('Unknown CA')).issue() });
    try {
      await ctx.services.serviceRegistry.update((await ctx.services.serviceRegistry.match(PORTAL))!.id, { proxyCallback: `${stranger.url}/portal/*` });
      const ticket = await loginForTicket(ctx.agent(), PORTAL);
      const res = await callEndpoint(ctx, '/cas/serviceValidate', { service: PORTAL, ticket, pgtUrl: `${stranger.url}/portal/cb` });
      expect(failureCode(res.text)).toBe('INVALID_PROXY_CALLBACK');
      expect(stranger.requests).toHaveLength(0);
    } finally {
      await stranger.close();
    }
  });

  it('a callback that does not answer 200 gets no PGT: validation fails and the PGT it was sent is revoked', async () => {
    callback.reply(404);
    const ticket = await loginForTicket(ctx.agent(), PORTAL);
    const res = await callEndpoint(ctx, '/cas/serviceValidate', { service: PORTAL, ticket, pgtUrl: `${callback.url}/portal/cb` });
    expect(failureCode(res.text)).toBe('INVALID_PROXY_CALLBACK');
    const leaked = callback.requests[0].query.get('pgtId') as string;
    expect(failureCode((await callEndpoint(ctx, '/cas/proxy', { pgt: leaked, targetService: BACKEND })).text)).toBe('INVALID_TICKET');
  });

  it('logout ends the proxy-granting tickets of the session', async () => {
    const agent = ctx.agent();
    const ticket = await loginForTicket(agent, PORTAL);
    await callEndpoint(ctx, '/cas/serviceValidate', { service: PORTAL, ticket, pgtUrl: `${callback.url}/portal/cb` });
    const pgt = callback.requests[0].query.get('pgtId') as string;
    expect((await callEndpoint(ctx, '/cas/proxy', { pgt, targetService: BACKEND })).text).toContain('<cas:proxySuccess>');
    await agent.get('/cas/logout');
    expect(failureCode((await callEndpoint(ctx, '/cas/proxy', { pgt, targetService: BACKEND })).text)).toBe('INVALID_TICKET');
  });

  it('a proxy ticket is bound to its target service (INVALID_SERVICE otherwise)', async () => {
    const { pgt } = await portalPgt();
    const pt = (parseCasXml((await callEndpoint(ctx, '/cas/proxy', { pgt, targetService: BACKEND })).text)['cas:proxySuccess'] as XmlObject)['cas:proxyTicket'] as string;
    expect(failureCode((await callEndpoint(ctx, '/cas/proxyValidate', { service: DATABASE, ticket: pt })).text)).toBe('INVALID_SERVICE');
  });
});
