import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { runHousekeeping } from '../../src/ops/housekeeping';
import { type TestContext, createTestContext } from '../support/test-app';
import { callEndpoint, loginForTicket, registerService, ssoTicket } from '../support/cas-helpers';
import { type Receiver, type TestCa, createTestCa, deadUrl, startReceiver } from '../support/cas-servers';

/**
 * Single logout (spec §2.3.3, Appendix C): a back-channel
 * `logoutRequest=<samlp:LogoutRequest>` POST to every service that validated
 * a ticket of the session, delivered from a database queue with timeout and
 * retry, never holding up the logout itself.
 */

async function eventually<T>(probe: () => Promise<T | undefined | false>, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });

function parseLogoutRequest(body: string): { id: string; version: string; issueInstant: string; nameId: string; sessionIndex: string } {
  const doc = parser.parse(body) as Record<string, Record<string, string>>;
  const request = doc['samlp:LogoutRequest'];
  expect(request['@xmlns:samlp']).toBe('urn:oasis:names:tc:SAML:2.0:protocol');
  return { id: request['@ID'], version: request['@Version'], issueInstant: request['@IssueInstant'], nameId: request['saml:NameID'], sessionIndex: request['samlp:SessionIndex'] };
}

describe('CAS single logout', () => {
  let ca: TestCa;
  let dir: string;
  let plain: Receiver;
  let secure: Receiver;
  let ctx: TestContext;
  let plainApp: string;
  const secureApp = 'https://secure.example.org/app';
  const silentApp = 'https://silent.example.org/app';

  beforeAll(async () => {
    ca = await createTestCa();
    dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-slo-'));
    writeFileSync(path.join(dir, 'ca.pem'), ca.caPem);
    plain = await startReceiver();
    secure = await startReceiver({ tls: await ca.issue() });
    plainApp = `${plain.url}/app/login`;
  });
  afterAll(async () => {
    await plain.close();
    await secure.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    for (const r of [plain, secure]) {
      r.requests.length = 0;
      r.reply(200);
    }
    ctx = await createTestContext({
      overrides: {
        cas: { outboundCaFile: path.join(dir, 'ca.pem'), singleLogout: { timeoutSeconds: 1, retryDelaySeconds: 30, maxAttempts: 3 } },
        tickets: { tgtHardTimeoutSeconds: 3600, tgtIdleTimeoutSeconds: 600 },
      },
    });
    await ctx.addUser('alice', 'Correct-Horse-7');
    // SLO to the URL the ticket was issued for (default), to an explicit logout URL over verified HTTPS, and none.
    await registerService(ctx, { serviceUrl: plainApp });
    await registerService(ctx, { serviceUrl: secureApp, logoutUrl: `${secure.url}/slo` });
    await registerService(ctx, { serviceUrl: silentApp, logoutType: 'none' });
  });
  afterEach(() => ctx.close());

  it('notifies every service that validated a ticket of the session, with the spec logoutRequest and SessionIndex = its ticket', async () => {
    const agent = ctx.agent();
    const plainTicket = await loginForTicket(agent, plainApp);
    const secureTicket = await ssoTicket(agent, secureApp);
    const silentTicket = await ssoTicket(agent, silentApp);
    await ssoTicket(agent, plainApp); // issued but never validated: that application holds no session
    for (const [service, ticket] of [[plainApp, plainTicket], [secureApp, secureTicket], [silentApp, silentTicket]]) {
      expect((await callEndpoint(ctx, '/cas/serviceValidate', { service, ticket })).text).toContain('<cas:user>alice</cas:user>');
    }
    const before = ctx.clock.now();
    expect((await agent.get('/cas/logout')).status).toBe(200);

    const [toPlain] = await plain.waitForRequests(1);
    const [toSecure] = await secure.waitForRequests(1);
    await ctx.services.cas.singleLogout.drain();
    expect(plain.requests).toHaveLength(1);
    expect(secure.requests).toHaveLength(1);
    expect(toPlain.method).toBe('POST');
    expect(toPlain.url).toBe('/app/login');
    expect(toPlain.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(toSecure.url).toBe('/slo');
    for (const [received, ticket] of [[toPlain, plainTicket], [toSecure, secureTicket]] as const) {
      const logout = parseLogoutRequest(received.form.get('logoutRequest') as string);
      expect(logout.sessionIndex).toBe(ticket);
      expect(logout.nameId).toBe('@NOT_USED@');
      expect(logout.version).toBe('2.0');
      expect(logout.id).toMatch(/^LR-[0-9a-f]{32}$/);
      expect(Date.parse(logout.issueInstant)).toBeGreaterThanOrEqual(before);
    }
    expect(await ctx.services.cas.singleLogoutStore.pending()).toEqual([]);
  });

  it('a stuck service and a dead one never hold up logout; delivery times out, is retried later and finally succeeds', async () => {
    const dead = await deadUrl();
    await ctx.services.serviceRegistry.update((await ctx.services.serviceRegistry.match(plainApp))!.id, { logoutUrl: `${dead}/slo` });
    secure.reply('hang');
    const agent = ctx.agent();
    for (const service of [plainApp, secureApp]) {
      const ticket = service === plainApp ? await loginForTicket(agent, service) : await ssoTicket(agent, service);
      await callEndpoint(ctx, '/cas/serviceValidate', { service, ticket });
    }
    const logout = await agent.get('/cas/logout');
    expect(logout.status).toBe(200);
    expect(logout.text).toContain('You are logged out');
    // The stuck service is still holding its request open: logout did not wait for it.
    await secure.waitForRequests(1);

    const pending = await eventually(async () => {
      await ctx.services.cas.singleLogout.drain();
      const rows = await ctx.services.cas.singleLogoutStore.pending();
      return rows.length === 2 && rows.every((r) => r.attempts === 1 && r.lastError !== null) ? rows : undefined;
    }, 'both deliveries to fail once');
    expect(pending.map((r) => r.lastError).sort()).toEqual([expect.stringMatching(/ECONNREFUSED/), expect.stringMatching(/timed out/)].sort());
    expect(pending.every((r) => r.nextAttemptAt === ctx.clock.now() + 30_000)).toBe(true);

    // Not due yet: nothing is attempted.
    await ctx.services.cas.singleLogout.drain();
    expect(secure.requests).toHaveLength(1);

    secure.reply(200);
    ctx.clock.advance(30_000);
    expect(await ctx.services.cas.singleLogout.drain()).toBe(1);
    expect(secure.requests).toHaveLength(2);
    const left = await ctx.services.cas.singleLogoutStore.pending();
    expect(left).toHaveLength(1);
    expect(left[0].attempts).toBe(2);
    // Backoff doubles; after maxAttempts (3) the dead service's notification is dropped.
    ctx.clock.advance(60_000);
    await ctx.services.cas.singleLogout.drain();
    expect(await ctx.services.cas.singleLogoutStore.pending()).toEqual([]);
  });

  it('remembers one ticket per service URL of a session, the one validated last: one logout request, not one per ticket', async () => {
    const agent = ctx.agent();
    const first = await loginForTicket(agent, plainApp);
    await callEndpoint(ctx, '/cas/serviceValidate', { service: plainApp, ticket: first });
    const second = await ssoTicket(agent, plainApp);
    await callEndpoint(ctx, '/cas/serviceValidate', { service: plainApp, ticket: second });
    // Validated together: the same batch holds two rows for the pair, and still one is kept.
    const [third, fourth] = [await ssoTicket(agent, plainApp), await ssoTicket(agent, plainApp)];
    await Promise.all([third, fourth].map((ticket) => callEndpoint(ctx, '/cas/serviceValidate', { service: plainApp, ticket })));
    const secureTicket = await ssoTicket(agent, secureApp);
    await callEndpoint(ctx, '/cas/serviceValidate', { service: secureApp, ticket: secureTicket });
    expect(await ctx.services.db.knex('cas_session_services').count({ n: '*' })).toEqual([{ n: 2 }]);

    expect((await agent.get('/cas/logout')).status).toBe(200);
    const [toPlain] = await plain.waitForRequests(1);
    const [toSecure] = await secure.waitForRequests(1);
    await ctx.services.cas.singleLogout.drain();
    expect(plain.requests).toHaveLength(1);
    expect([third, fourth]).toContain(parseLogoutRequest(toPlain.form.get('logoutRequest') as string).sessionIndex);
    expect(parseLogoutRequest(toSecure.form.get('logoutRequest') as string).sessionIndex).toBe(secureTicket);
  });

  it('expiry of the session (background purge) triggers single logout too', async () => {
    const agent = ctx.agent();
    const ticket = await loginForTicket(agent, plainApp);
    await callEndpoint(ctx, '/cas/serviceValidate', { service: plainApp, ticket });
    ctx.clock.advance(3_601_000);
    await runHousekeeping(ctx.services, 'test');
    const [received] = await plain.waitForRequests(1);
    expect(parseLogoutRequest(received.form.get('logoutRequest') as string).sessionIndex).toBe(ticket);
  });

  it('REST DELETE of a ticket-granting ticket triggers single logout', async () => {
    const created = await ctx.agent().post('/cas/v1/tickets').type('form').send({ username: 'alice', password: 'Correct-Horse-7' });
    const tgtPath = new URL(created.headers.location as string).pathname;
    const st = (await ctx.agent().post(tgtPath).type('form').send({ service: plainApp })).text.trim();
    await callEndpoint(ctx, '/cas/serviceValidate', { service: plainApp, ticket: st });
    expect((await ctx.agent().delete(tgtPath)).status).toBe(200);
    const [received] = await plain.waitForRequests(1);
    expect(parseLogoutRequest(received.form.get('logoutRequest') as string).sessionIndex).toBe(st);
  });
});
