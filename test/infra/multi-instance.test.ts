import { writeFileSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import request from 'supertest';
import { type Cluster, type Instance, eventually, startCluster } from '../support/instances';
import { executionFrom } from '../support/test-app';

/**
 * Three Portcullis processes on one PostgreSQL database, requests spread over
 * them as a load balancer would. Everything that must hold across instances
 * (lockout, single-use tickets, SSO, administrator limit, policy reloads,
 * background jobs) is checked from the outside, over HTTPS.
 */

const PASSWORD = 'Correct-Horse-7';
const SERVICE = 'https://app.example.test/';

const privateConfig = (maxFailures: number) => `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <appSettings>
    <add key="MaxAllowedLoginFailureCount" value="${maxFailures}"/>
    <add key="UserLockoutTimeout" value="900"/>
    <add key="MaxAdministratorCount" value="2"/>
  </appSettings>
</configuration>
`;

/** GET the login page then POST the form, on one instance, carrying cookies in `jar`. */
async function formLogin(instance: Instance, username: string, password: string, service?: string, jar: string[] = []): Promise<request.Response> {
  const query = service ? `?service=${encodeURIComponent(service)}` : '';
  const page = await request(instance.url).get(`/cas/login${query}`).ca(instance.ca).set('Cookie', jar);
  const cookies = [...jar, ...((page.headers['set-cookie'] as unknown as string[] | undefined) ?? []).map((c) => c.split(';')[0])];
  const form: Record<string, string> = { username, password, execution: executionFrom(page.text), ...(service ? { service } : {}) };
  return request(instance.url).post('/cas/login').ca(instance.ca).set('Cookie', cookies).type('form').send(form);
}

function ticketOf(res: request.Response): string {
  expect(res.status).toBe(303);
  return new URL(res.headers.location as string).searchParams.get('ticket') as string;
}

function validate(instance: Instance, ticket: string): Promise<request.Response> {
  return request(instance.url).get(`/cas/p3/serviceValidate?${new URLSearchParams({ service: SERVICE, ticket })}`).ca(instance.ca);
}

async function metric(instance: Instance, name: string, labels: string): Promise<number> {
  const text = (await request(instance.opsUrl).get('/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('several instances on one PostgreSQL database', () => {
  let cluster: Cluster;
  let db: Knex;
  beforeAll(async () => {
    cluster = await startCluster(3, {
      files: {
        'private.config': privateConfig(3),
        'portcullis.json': JSON.stringify({ tickets: { purgeIntervalSeconds: 1 }, accounts: { inactiveAccountDisableDays: 30 } }),
      },
    });
    db = knexFactory({ client: 'pg', connection: cluster.database.url, pool: { min: 0, max: 2 } });
    const added = await cluster.cli(['user', 'add', 'alice', '--password-stdin'], `${PASSWORD}\n`);
    expect(added.stderr).toBe('');
    await cluster.cli(['user', 'add', 'bob', '--password-stdin'], `${PASSWORD}\n`);
    const service = await cluster.cli(['service', 'add', 'app', '--url', SERVICE]);
    expect(service.status).toBe(0);
  });
  afterAll(async () => {
    await db?.destroy();
    await cluster?.close();
  });

  it('started all three at once on a fresh database (one ran the migrations, one created the bootstrap administrator)', async () => {
    expect(cluster.instances).toHaveLength(3);
    for (const instance of cluster.instances) {
      const ready = await request(instance.opsUrl).get('/health/ready');
      expect(ready.body).toMatchObject({ status: 'ready', checks: { database: { ok: true }, migrations: { ok: true } } });
    }
    const bootstrapLines = cluster.instances.flatMap((i) => i.process.output.filter((l) => l.includes('Bootstrap administrator created')));
    expect(bootstrapLines).toHaveLength(1);
  });

  it('adds up lockout failures from all instances: the limit of 3 is reached by one failure on each', async () => {
    for (const instance of cluster.instances) expect((await formLogin(instance, 'alice', 'wrong-password-1')).status).toBe(401);
    for (const instance of cluster.instances) expect((await formLogin(instance, 'alice', PASSWORD)).status).toBe(423);
    expect((await cluster.cli(['user', 'unlock', 'alice'])).status).toBe(0);
    expect((await formLogin(cluster.instances[2], 'alice', PASSWORD)).status).toBe(200);
  });

  it('validates a ticket issued by one instance on another, exactly once when two instances validate it at the same time', async () => {
    const [a, b, c] = cluster.instances;
    for (let round = 0; round < 5; round++) {
      const ticket = ticketOf(await formLogin(a, 'bob', PASSWORD, SERVICE));
      const answers = await Promise.all([validate(b, ticket), validate(c, ticket)]);
      const successes = answers.filter((r) => r.text.includes('<cas:authenticationSuccess>'));
      expect(successes).toHaveLength(1);
      expect(successes[0].text).toContain('<cas:user>bob</cas:user>');
      expect(answers.filter((r) => r.text.includes('INVALID_TICKET'))).toHaveLength(1);
    }
  });

  it('keeps single sign-on across instances: a session from one is honoured by the others, and logout on one ends it everywhere', async () => {
    const [a, b, c] = cluster.instances;
    const login = await formLogin(a, 'bob', PASSWORD);
    expect(login.status).toBe(200);
    const tgc = ((login.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('TGC=')) as string).split(';')[0];
    const sso = await request(b.url).get(`/cas/login?service=${encodeURIComponent(SERVICE)}`).ca(b.ca).set('Cookie', tgc);
    const ticket = ticketOf(sso);
    const validated = await validate(c, ticket);
    expect(validated.text).toContain('<cas:user>bob</cas:user>');
    await request(c.url).get('/cas/logout').ca(c.ca).set('Cookie', tgc);
    const after = await request(a.url).get(`/cas/login?service=${encodeURIComponent(SERVICE)}`).ca(a.ca).set('Cookie', tgc);
    expect(after.status).toBe(200);
    expect(after.text).toContain('name="password"');
  });

  it('holds MaxAdministratorCount when administrator creations race from separate processes', async () => {
    // The bootstrap administrator holds one of the two slots.
    const results = await Promise.all(['ann', 'ben', 'cat', 'dan'].map((name) => cluster.cli(['user', 'add', name, '--role', 'admin', '--password-stdin'], `${PASSWORD}\n`)));
    expect(results.filter((r) => r.status === 0)).toHaveLength(1);
    for (const refused of results.filter((r) => r.status !== 0)) expect(refused.stderr).toContain('MaxAdministratorCount');
    const [{ n }] = await db('accounts').where({ role: 'admin' }).count({ n: '*' });
    expect(Number(n)).toBe(2);
  });

  it('picks up an edited private.config on every instance', async () => {
    writeFileSync(path.join(cluster.configDir, 'private.config'), privateConfig(5));
    for (const instance of cluster.instances) {
      await eventually(`policy reload on ${instance.name}`, () => instance.logs().some((l) => l.event === 'policy_reloaded'));
    }
    // Four failures spread over the instances no longer lock (the limit is now 5)...
    for (let i = 0; i < 4; i++) expect((await formLogin(cluster.instances[i % 3], 'bob', `wrong-${i}-pw`)).status).toBe(401);
    expect((await formLogin(cluster.instances[1], 'bob', PASSWORD)).status).toBe(200);
    // ...and the fifth does, on any instance.
    for (let i = 0; i < 5; i++) await formLogin(cluster.instances[(i + 1) % 3], 'bob', `wrong-${i}-pw`);
    for (const instance of cluster.instances) expect((await formLogin(instance, 'bob', PASSWORD)).status).toBe(423);
  });

  it('runs background jobs on one instance at a time: expired tickets purged once, inactive accounts disabled once', async () => {
    const old = Date.now() - 40 * 86_400_000;
    await db('tickets').insert(
      Array.from({ length: 40 }, (_, i) => ({ id: `expired-${String(i).padStart(3, '0')}`.padEnd(64, 'x'), kind: 'TGT', principal: 'ghost', created_at: old, expires_at: old + 1000, idle_expires_at: old + 1000 })),
    );
    for (const name of ['idle1', 'idle2', 'idle3']) await cluster.cli(['user', 'add', name, '--password-stdin'], `${PASSWORD}\n`);
    await db('accounts').whereIn('username', ['idle1', 'idle2', 'idle3']).update({ created_at: old });
    await eventually('expired tickets purged', async () => Number((await db('tickets').where('id', 'like', 'expired-%').count({ n: '*' }))[0].n) === 0);
    await eventually('inactive accounts disabled', async () => Number((await db('accounts').whereIn('username', ['idle1', 'idle2', 'idle3']).where({ enabled: false }).count({ n: '*' }))[0].n) === 3);
    // The audit rows follow the disabling statement: wait for them too, then check there are exactly these.
    const disabledEvents = await eventually('inactive-account audit events', async () => {
      const rows = await db('audit_events').where({ event: 'account_disabled_inactive' }).select('username');
      return rows.length >= 3 && rows;
    });
    expect(disabledEvents.map((e: { username: string }) => e.username).sort()).toEqual(['idle1', 'idle2', 'idle3']);
    // Every instance schedules the job each second; the lease lets exactly one of them run it.
    const ran = await Promise.all(cluster.instances.map((i) => metric(i, 'portcullis_background_job_runs_total', 'outcome="ran"')));
    const skipped = await Promise.all(cluster.instances.map((i) => metric(i, 'portcullis_background_job_runs_total', 'outcome="skipped"')));
    expect(ran.filter((n) => n > 0)).toHaveLength(1);
    expect(skipped.filter((n) => n > 0)).toHaveLength(2);
    const purgeLines = cluster.instances.flatMap((i) => i.logs().filter((l) => l.event === 'housekeeping'));
    expect(purgeLines.reduce((n, l) => n + Number(l.ticketsPurged), 0)).toBeGreaterThanOrEqual(40);
    expect(new Set(purgeLines.map((l) => l.holder)).size).toBe(1);
  });
});
