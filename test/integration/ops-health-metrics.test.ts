import request from 'supertest';
import { startOpsServer } from '../../src/ops/ops-server';
import { healthDeps } from '../../src/app';
import { clientKey } from '../../src/policy/client-address';
import { adminDeps } from '../../src/admin-wiring';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { callEndpoint, loginForTicket, registerService } from '../support/cas-helpers';

const PASSWORD = 'Correct-Horse-7';
const SERVICE = 'https://app.example.test/';

/** The value of one sample line of the Prometheus text format (0 when absent). */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = /\{([^}]*)\}/.exec(line)?.[1] ?? '';
    if (wanted.every((w) => labelText.split(',').includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** /metrics on the main port, as an administrator (a token issued directly, so no login is counted). */
async function adminMetrics(ctx: TestContext): Promise<request.Response> {
  await ctx.addUser('metrics-admin', 'Prometheus-Scrape-7', { role: 'admin' });
  const account = await ctx.services.accountService.requireByUsername('metrics-admin');
  const { secret } = await adminDeps(ctx.services).tokens.issue(account, 'full', { clientIp: null, userAgent: null, channel: 'test' });
  return ctx.agent().get('/metrics').set('Authorization', `Bearer ${secret}`);
}

describe('health endpoints', () => {
  let ctx: TestContext;
  afterEach(() => ctx.close());

  it('answers /health/live, and /health/ready with database, migrations and backend checks (no failure detail on the main port)', async () => {
    ctx = await createTestContext();
    const live = await ctx.agent().get('/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'live' });
    const ready = await ctx.agent().get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.headers['cache-control']).toBe('no-store');
    expect(ready.body.status).toBe('ready');
    expect(Object.keys(ready.body.checks)).toEqual(expect.arrayContaining(['database', 'migrations', 'backend:internal']));
    for (const check of Object.values(ready.body.checks as Record<string, { ok: boolean }>)) expect(check).toEqual({ ok: true, ms: expect.any(Number) });
  });

  it('reports not ready (503) when the database is gone, naming the failed check', async () => {
    ctx = await createTestContext();
    await ctx.services.db.knex.destroy();
    const ready = await ctx.agent().get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe('not_ready');
    expect(ready.body.checks.database.ok).toBe(false);
    expect(ready.body.checks.database.error).toBeUndefined();
    expect((await ctx.agent().get('/health/live')).status).toBe(200);
  });

  it('moves health and metrics to the ops port when ops.port is set, with failure details there', async () => {
    ctx = await createTestContext({ overrides: { ops: { port: 0 } } });
    expect((await ctx.agent().get('/health/ready')).status).toBe(404);
    expect((await ctx.agent().get('/metrics')).status).toBe(404);
    const ops = await startOpsServer({ ...healthDeps(ctx.services), logger: ctx.services.logger }, '127.0.0.1', 0, true);
    try {
      expect(ops.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const ready = await request(ops.url).get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('ready');
      const metrics = await request(ops.url).get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      await ctx.services.db.knex.destroy();
      const down = await request(ops.url).get('/health/ready');
      expect(down.status).toBe(503);
      expect(down.body.checks.database.error).toEqual(expect.any(String));
    } finally {
      await ops.close();
    }
  });
});

describe('/metrics', () => {
  let ctx: TestContext;
  afterEach(() => ctx.close());

  it('counts logins by backend and outcome, lockouts, tickets issued and validated, validation latency and active TGTs', async () => {
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 2, userLockoutTimeout: 900 } } });
    await ctx.addUser('alice', PASSWORD);
    await ctx.addUser('bob', PASSWORD);
    await registerService(ctx, { serviceUrl: SERVICE });
    const ticket = await loginForTicket(ctx.agent(), SERVICE, 'alice', PASSWORD);
    expect((await callEndpoint(ctx, '/cas/p3/serviceValidate', { service: SERVICE, ticket })).text).toContain('<cas:authenticationSuccess>');
    expect((await callEndpoint(ctx, '/cas/p3/serviceValidate', { service: SERVICE, ticket })).text).toContain('<cas:authenticationFailure');
    for (let i = 0; i < 3; i++) await submitLogin(ctx.agent(), 'bob', `wrong-${i}-pw`);
    await submitLogin(ctx.agent(), 'nobody', 'wrong-pw-1');

    const res = await adminMetrics(ctx);
    expect(res.status).toBe(200);
    const m = res.text;
    expect(sample(m, 'portcullis_logins_total', { backend: 'internal', outcome: 'success' })).toBe(1);
    expect(sample(m, 'portcullis_logins_total', { backend: 'internal', outcome: 'bad_credentials' })).toBe(2);
    expect(sample(m, 'portcullis_logins_total', { outcome: 'locked' })).toBe(1);
    expect(sample(m, 'portcullis_logins_total', { backend: 'none', outcome: 'unknown_user' })).toBe(1);
    expect(sample(m, 'portcullis_lockouts_total')).toBe(1);
    expect(sample(m, 'portcullis_tickets_issued_total', { kind: 'TGT' })).toBe(1);
    expect(sample(m, 'portcullis_tickets_issued_total', { kind: 'ST' })).toBe(1);
    expect(sample(m, 'portcullis_ticket_validations_total', { endpoint: 'p3/serviceValidate', outcome: 'success' })).toBe(1);
    expect(sample(m, 'portcullis_ticket_validation_seconds_count', { endpoint: 'p3/serviceValidate' })).toBe(2);
    expect(sample(m, 'portcullis_ticket_validation_seconds_bucket', { le: '+Inf', endpoint: 'p3/serviceValidate' })).toBe(2);
    expect(sample(m, 'portcullis_active_tgts')).toBe(1);
    expect(sample(m, 'portcullis_http_request_duration_seconds_count', { method: 'POST', route: '/cas/login', status: '401' })).toBe(3);
    expect(m).toContain('portcullis_process_cpu_seconds_total');
  });
});

describe('/metrics on the main HTTPS port', () => {
  let ctx: TestContext;
  afterEach(() => ctx.close());

  it('needs an administrator token there (401 without, 403 for a user)', async () => {
    ctx = await createTestContext();
    const anonymous = await ctx.agent().get('/metrics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="portcullis"');
    expect(anonymous.text).not.toContain('portcullis_');
    await ctx.addUser('plain', PASSWORD);
    const plain = await ctx.services.accountService.requireByUsername('plain');
    const { secret } = await adminDeps(ctx.services).tokens.issue(plain, 'full', { clientIp: null, userAgent: null, channel: 'test' });
    expect((await ctx.agent().get('/metrics').set('Authorization', `Bearer ${secret}`)).status).toBe(403);
    expect((await adminMetrics(ctx)).text).toContain('portcullis_logins_total');
  });
});

describe('per-client-address throttling of failed logins', () => {
  let ctx: TestContext;
  afterEach(() => ctx.close());

  it('refuses every login from an address after maxFailures failures across accounts, and lets other addresses in', async () => {
    // Behind a load balancer on loopback: X-Forwarded-For names the client (see README, "Behind a load balancer").
    ctx = await createTestContext({ overrides: { server: { trustProxy: ['127.0.0.1'] }, ops: { clientThrottle: { maxFailures: 3, windowSeconds: 600 } }, lockout: { maxAllowedLoginFailureCount: 10 } } });
    await ctx.addUser('alice', PASSWORD);
    const from = (ip: string) => ctx.agent().set('X-Forwarded-For', ip);
    // Password spraying: one wrong guess each for three different accounts.
    for (const user of ['carol', 'dave', 'erin']) expect((await submitLogin(from('203.0.113.5'), user, 'Spring2026!')).status).toBe(401);
    const refused = await submitLogin(from('203.0.113.5'), 'alice', PASSWORD);
    expect(refused.status).toBe(423);
    expect(refused.text).toContain('Try again later');
    expect((await submitLogin(from('203.0.113.6'), 'alice', PASSWORD)).status).toBe(200);
    // The per-account counter of alice was not touched by the throttled attempt.
    expect((await ctx.services.lockouts.get('alice')).failureCount).toBe(0);
    const audit = await ctx.services.audit.query({ username: 'alice', event: 'login' });
    expect(audit.events.map((e) => [e.clientIp, e.outcome, e.details?.reason ?? null])).toEqual([
      ['203.0.113.6', 'success', null],
      ['203.0.113.5', 'failure', 'client_throttled'],
    ]);
    expect(sample((await adminMetrics(ctx)).text, 'portcullis_client_throttled_total')).toBe(1);
    ctx.clock.advance(600_000);
    expect((await submitLogin(from('203.0.113.5'), 'alice', PASSWORD)).status).toBe(200);
  });

  it('keys IPv4 addresses as they are and IPv6 by /64', () => {
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(clientKey('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('not-an-address')).toBeNull();
  });
});
