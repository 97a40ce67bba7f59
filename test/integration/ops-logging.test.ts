import request from 'supertest';
import { loggablePath } from '../../src/ops/request-log';
import { createLogger } from '../../src/shared/logger';
import { type TestContext, createTestContext, executionFrom, submitLogin } from '../support/test-app';
import { callEndpoint, loginForTicket, registerService, ssoTicket } from '../support/cas-helpers';
import { eventually } from '../support/instances';

const PASSWORD = 'Correct-Horse-7';
const WRONG_PASSWORD = 'Wrong-Secret-99';
const NEW_PASSWORD = 'Fresh-Battery-42';
const SERVICE = 'https://app.example.test/';

interface LogLine {
  level: number;
  event?: string;
  requestId?: string;
  method?: string;
  path?: string;
  route?: string;
  status?: number;
  durationMs?: number;
}

describe('request logs', () => {
  let ctx: TestContext;
  let lines: string[];
  beforeEach(async () => {
    lines = [];
    ctx = await createTestContext({ logLines: lines });
    await ctx.addUser('alice', PASSWORD, { mustChangePassword: true });
    await registerService(ctx, { serviceUrl: SERVICE });
  });
  afterEach(() => ctx.close());

  it('never contain a password, ticket, cookie or form token from a full login, password change, CAS and REST flow', async () => {
    const secrets: string[] = [PASSWORD, WRONG_PASSWORD, NEW_PASSWORD];
    const browser = ctx.agent();
    expect((await submitLogin(browser, 'alice', WRONG_PASSWORD, { service: SERVICE })).status).toBe(401);

    // First login: forced password change, then the redirect with a service ticket.
    const page = await browser.get(`/cas/login?service=${encodeURIComponent(SERVICE)}`);
    secrets.push(executionFrom(page.text));
    const change = await browser.post('/cas/login').type('form').send({ username: 'alice', password: PASSWORD, execution: executionFrom(page.text), service: SERVICE });
    const token = /name="token" value="([^"]+)"/.exec(change.text)?.[1];
    expect(token).toBeDefined();
    secrets.push(token as string);
    const changed = await browser.post('/cas/password').type('form').send({ token, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(changed.status).toBe(303);
    const firstTicket = new URL(changed.headers.location as string).searchParams.get('ticket') as string;
    const cookies = changed.headers['set-cookie'] as unknown as string[];
    const tgc = /TGC=([^;]+)/.exec(cookies.join('\n'))?.[1] as string;
    secrets.push(firstTicket, tgc);
    expect((await callEndpoint(ctx, '/cas/p3/serviceValidate', { service: SERVICE, ticket: firstTicket })).text).toContain('authenticationSuccess');

    // Single sign-on, a replayed ticket, and a second browser.
    const second = await ssoTicket(browser, SERVICE);
    secrets.push(second);
    await callEndpoint(ctx, '/cas/serviceValidate', { service: SERVICE, ticket: second });
    await callEndpoint(ctx, '/cas/serviceValidate', { service: SERVICE, ticket: second });
    const third = await loginForTicket(ctx.agent(), SERVICE, 'alice', NEW_PASSWORD);
    secrets.push(third);
    await callEndpoint(ctx, '/cas/validate', { service: SERVICE, ticket: third });

    // REST: the TGT id travels in the URL path.
    const rest = await request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form').send({ username: 'alice', password: NEW_PASSWORD });
    expect(rest.status).toBe(201);
    const restTgt = (rest.headers.location as string).split('/').pop() as string;
    secrets.push(restTgt);
    const restSt = await request(ctx.url).post(`/cas/v1/tickets/${restTgt}`).ca(ctx.ca).type('form').send({ service: SERVICE });
    expect(restSt.status).toBe(200);
    secrets.push(restSt.text.trim());
    await request(ctx.url).delete(`/cas/v1/tickets/${restTgt}`).ca(ctx.ca);
    await browser.get('/cas/logout');
    // A request is logged when the server has finished writing it, which can come after the client has read it.
    await eventually('the logout request log line', () => lines.some((line) => line.includes('"route":"/cas/logout"')));

    expect(lines.length).toBeGreaterThan(15);
    const leaks = lines.flatMap((line) => secrets.filter((secret) => line.includes(secret)).map((secret) => `${secret.slice(0, 12)}... in ${line}`));
    expect(leaks).toEqual([]);
    // The search is meaningful: every secret is a long, distinct string, and the routes that carried them were logged.
    for (const secret of secrets) expect(secret.length).toBeGreaterThanOrEqual(15);
    const requests = lines.map((l) => JSON.parse(l) as LogLine).filter((l) => l.event === 'request');
    expect(requests.map((r) => r.route)).toEqual(expect.arrayContaining(['/cas/login', '/cas/password', '/cas/p3/serviceValidate', '/cas/v1/tickets', '/cas/v1/tickets/:tgt', '/cas/logout']));
    expect(requests.find((r) => r.route === '/cas/v1/tickets/:tgt')?.path).toBe('/cas/v1/tickets/:redacted');
    for (const r of requests) {
      expect(r.requestId).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(r.path).not.toContain('?');
      expect(typeof r.status).toBe('number');
      expect(typeof r.durationMs).toBe('number');
    }
  });

  it('carries the request id: a well-formed incoming X-Request-Id is kept and echoed, a malformed one replaced', async () => {
    const kept = await ctx.agent().get('/cas/login').set('X-Request-Id', 'lb-7f3a.42');
    expect(kept.headers['x-request-id']).toBe('lb-7f3a.42');
    const replaced = await ctx.agent().get('/cas/login').set('X-Request-Id', 'bad id\twith spaces');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const logged = lines.map((l) => JSON.parse(l) as LogLine).filter((l) => l.event === 'request').map((l) => l.requestId);
    expect(logged).toEqual(expect.arrayContaining(['lb-7f3a.42', replaced.headers['x-request-id']]));
  });

  it('redacts ticket- and token-shaped path segments and drops query strings', () => {
    expect(loggablePath('/cas/v1/tickets/TGT-12-abcdefghijklmnopqrstuvwxyz0123456789?x=1')).toBe('/cas/v1/tickets/:redacted');
    expect(loggablePath('/cas/serviceValidate?ticket=ST-1-abc&service=x')).toBe('/cas/serviceValidate');
    expect(loggablePath('/api/v1/accounts/42')).toBe('/api/v1/accounts/42');
    expect(loggablePath('/api/v1/tokens/Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy')).toBe('/api/v1/tokens/:redacted');
  });

  it('masks ticket ids quoted in messages and errors, and redacts password fields, whatever the caller logs', () => {
    const out: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void out.push(line) });
    const ticket = 'ST-7d3I7VIKaYPtmxlaUVSlfYVYno46n93uKHVINt4N3lg';
    logger.error({ err: new Error(`Ticket '${ticket}' not recognized`), password: PASSWORD, nested: { password: PASSWORD, note: `pgt PGTIOU-${ticket}` } }, `validation of ${ticket} failed`);
    expect(out).toHaveLength(1);
    expect(out[0]).not.toContain(ticket.slice(3));
    expect(out[0]).not.toContain(PASSWORD);
    expect(out[0]).toContain('ST-[redacted]');
  });
});
