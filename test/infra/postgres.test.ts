import argon2 from 'argon2';
import type { StoredTicket } from '../../src/tickets/registry';
import { ConflictError } from '../../src/shared/errors';
import { migrationsCurrent } from '../../src/storage/db';
import { runHousekeeping } from '../../src/ops/housekeeping';
import { type SharedDatabase, sharedPostgres } from '../support/pg-services';

/**
 * The storage layer on a real PostgreSQL server (scripts/test-servers/up.sh),
 * with two or three independent pools on one database standing in for
 * instances: every count must come out exact, whichever pool does the work.
 */

const PASSWORD = 'Correct-Horse-7';
const context = (i: number) => ({ clientIp: `192.0.2.${i % 250}`, userAgent: null, channel: 'test' });

function ticket(id: string, kind: StoredTicket['kind'], now: number, ttlMs: number, tgtId: string | null = null) {
  return { id, kind, tgtKey: tgtId, parentKey: tgtId, accountId: null, principal: 'alice', service: kind === 'TGT' ? null : 'https://app.example.test/', createdAt: now, expiresAt: now + ttlMs, idleExpiresAt: now + ttlMs, data: {} };
}

describe('PostgreSQL storage', () => {
  let shared: SharedDatabase;
  afterEach(() => shared.close());

  it('migrates to the latest schema with bigint times and real booleans', async () => {
    shared = await sharedPostgres(1);
    const [s] = shared.instances;
    expect(await migrationsCurrent(s.db.knex)).toBe(true);
    const columns: { table_name: string; column_name: string; data_type: string }[] = await s.db
      .knex('information_schema.columns')
      .where({ table_schema: 'public' })
      .whereIn('column_name', ['created_at', 'expires_at', 'locked_until', 'enabled', 'must_change_password', 'window_start'])
      .select('table_name', 'column_name', 'data_type');
    expect(columns.length).toBeGreaterThan(8);
    for (const c of columns) {
      const expected = ['enabled', 'must_change_password'].includes(c.column_name) ? 'boolean' : 'bigint';
      expect(`${c.table_name}.${c.column_name} ${c.data_type}`).toBe(`${c.table_name}.${c.column_name} ${expected}`);
    }
  });

  it('reads epoch-ms bigints as numbers and booleans as booleans, returns inserted ids, and searches LIKE-safely', async () => {
    shared = await sharedPostgres(1);
    const [s] = shared.instances;
    const created = await s.accountService.create({ username: 'alice', password: PASSWORD, enabled: false }, { name: 'test' });
    expect(created.id).toBeGreaterThan(0);
    expect(created.createdAt).toBe(shared.clock.now());
    expect(typeof created.createdAt).toBe('number');
    expect(created.enabled).toBe(false);
    expect(created.mustChangePassword).toBe(false);
    const listed = await s.accounts.list({ enabled: false, search: 'lic' });
    expect(listed.total).toBe(1);
    expect(listed.accounts[0].username).toBe('alice');
    // LIKE metacharacters in a search are literal.
    expect((await s.accounts.list({ search: 'a_ice' })).total).toBe(0);
    expect((await s.accounts.list({ search: 'al%' })).total).toBe(0);
  });

  it('counts 50 concurrent wrong passwords spread over two instances exactly (high limit)', async () => {
    shared = await sharedPostgres(2, { lockout: { maxAllowedLoginFailureCount: 100 } });
    const [a, b] = shared.instances;
    await a.accountService.create({ username: 'alice', password: PASSWORD }, { name: 'test' });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).loginService.login({ username: 'alice', password: `wrong-${i}` }, context(i))));
    expect(results.every((r) => r.status === 'invalid')).toBe(true);
    expect((await a.lockouts.get('alice')).failureCount).toBe(50);
    expect((await b.audit.query({ username: 'alice', event: 'login' })).total).toBe(50);
  });

  it('locks at the limit when failures race on two instances, so the right password is refused', async () => {
    shared = await sharedPostgres(2, { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 900 } });
    const [a, b] = shared.instances;
    await a.accountService.create({ username: 'alice', password: PASSWORD }, { name: 'test' });
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).loginService.login({ username: 'alice', password: `wrong-${i}` }, context(i))));
    expect((await b.loginService.login({ username: 'alice', password: PASSWORD }, context(200))).status).toBe('locked');
    expect((await a.audit.query({ username: 'alice', event: 'account_locked' })).total).toBe(1);
  });

  it('checks at most the limit of passwords when 50 attempts race on two instances, the right one at a random position', async () => {
    shared = await sharedPostgres(2, { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 900 }, ops: { clientThrottle: { maxFailures: 0 } } });
    const [a, b] = shared.instances;
    await a.accountService.create({ username: 'alice', password: PASSWORD }, { name: 'test' });
    const rightAt = Math.floor(Math.random() * 50);
    const verify = jest.spyOn(argon2, 'verify');
    try {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).loginService.login({ username: 'alice', password: i === rightAt ? PASSWORD : `wrong-${i}` }, context(i))),
      );
      const succeeded = results.filter((r) => r.status === 'success').length;
      expect(succeeded).toBeLessThanOrEqual(1);
      expect(results.every((r) => ['success', 'invalid', 'locked'].includes(r.status))).toBe(true);
      // One window of 3 checks, and a second one only after the right password cleared the count.
      expect(verify.mock.calls.length).toBeLessThanOrEqual(succeeded ? 6 : 3);
    } finally {
      verify.mockRestore();
    }
  });

  it('holds MaxAdministratorCount when administrator creations race on two instances', async () => {
    shared = await sharedPostgres(2, { administrators: { maxAdministratorCount: 2 } });
    const [a, b] = shared.instances;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).accountService.create({ username: `admin${i}`, password: PASSWORD, role: 'admin' }, { name: 'test' })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as Error);
    expect(refused).toHaveLength(10);
    for (const error of refused) expect(error).toBeInstanceOf(ConflictError);
    expect(await a.accounts.countAdministrators(false)).toBe(2);
  });

  it('holds MaxAdministratorCount when promotions race on two instances', async () => {
    shared = await sharedPostgres(2, { administrators: { maxAdministratorCount: 2 } });
    const [a, b] = shared.instances;
    await a.accountService.create({ username: 'root', password: PASSWORD, role: 'admin' }, { name: 'test' });
    const users = [];
    for (let i = 0; i < 6; i++) users.push(await a.accountService.create({ username: `user${i}`, password: PASSWORD }, { name: 'test' }));
    const outcomes = await Promise.allSettled(users.map((u, i) => (i % 2 ? a : b).accountService.update(u.id, { role: 'admin' }, { name: 'test' })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(await b.accounts.countAdministrators(false)).toBe(2);
  });

  it('lets exactly one of many concurrent consumers on two instances have a service ticket', async () => {
    shared = await sharedPostgres(2);
    const [a, b] = shared.instances;
    const now = shared.clock.now();
    await a.tickets.add(ticket('TGT-1-session', 'TGT', now, 60_000));
    await a.tickets.add(ticket('ST-1-abc', 'ST', now, 10_000, 'TGT-1-session'));
    const consumed = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).tickets.consume('ST-1-abc', ['ST'], now)));
    expect(consumed.filter((t) => t !== null)).toHaveLength(1);
  });

  it('grants a job lease to exactly one of many concurrent holders, renews it for its holder, and hands it over when it lapses', async () => {
    shared = await sharedPostgres(2);
    const [a, b] = shared.instances;
    const now = shared.clock.now();
    const granted = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).leases.tryAcquire('job', `holder-${i % 4}`, now, 1000)));
    expect(granted.filter(Boolean)).toHaveLength(1);
    const winner = `holder-${granted.indexOf(true) % 4}`;
    expect(await a.leases.holder('job', now)).toBe(winner);
    expect(await b.leases.tryAcquire('job', winner, now + 500, 1000)).toBe(true);
    expect(await b.leases.tryAcquire('job', 'someone-else', now + 1400, 1000)).toBe(false);
    expect(await b.leases.tryAcquire('job', 'someone-else', now + 1500, 1000)).toBe(true);
    await b.leases.release('job', 'someone-else');
    expect(await a.leases.holder('job', now + 1600)).toBeNull();
  });

  it('counts failures from one client address (IPv6 /64) across instances exactly and throttles at the limit', async () => {
    shared = await sharedPostgres(2, { ops: { clientThrottle: { maxFailures: 60, windowSeconds: 600 } } });
    const [a, b] = shared.instances;
    const now = shared.clock.now();
    // Failed attempts as the login path reports them to the regulator (no account lockout involved).
    const failed = (ip: string) => ({ usernameKey: 'nobody', clientIp: ip, claim: null, clearOnSuccess: false });
    const admitted = async (s: typeof a, ip: string) => (await s.regulator.admit('nobody', ip, { lockout: false })).admitted;
    await Promise.all(Array.from({ length: 59 }, (_, i) => (i % 2 ? a : b).regulator.fail(failed(`2001:db8:1:2::${i.toString(16)}`))));
    expect(await a.regulator.clientFailures('2001:db8:1:2:ffff::1')).toBe(59);
    expect(await admitted(b, '2001:db8:1:2::17')).toBe(true);
    await b.regulator.fail(failed('2001:0db8:0001:0002:0:0:0:99'));
    expect(await a.regulator.admit('nobody', '2001:db8:1:2::1', { lockout: false })).toEqual({ admitted: false, reason: 'client_throttled', lockedUntil: now + 600_000 });
    expect(await admitted(a, '2001:db8:1:3::1')).toBe(true);
    shared.clock.advance(600_000);
    expect(await admitted(a, '2001:db8:1:2::1')).toBe(true);
  });

  it('runs housekeeping on one instance at a time: each expired session is reported once and each inactive account disabled once', async () => {
    shared = await sharedPostgres(3, { accounts: { inactiveAccountDisableDays: 30 }, tickets: { purgeIntervalSeconds: 60 } });
    const { instances, clock } = shared;
    const ended: string[] = [];
    for (const s of instances) s.servicePort = { ...s.servicePort, sessionEnded: (session) => void ended.push(session.key) };
    for (let i = 0; i < 5; i++) await instances[0].accountService.create({ username: `idle${i}`, password: PASSWORD }, { name: 'test' });
    const start = clock.now();
    for (let i = 0; i < 30; i++) {
      await instances[0].tickets.add(ticket(`TGT-${i}-x`, 'TGT', start, 1000));
      await instances[0].tickets.add(ticket(`ST-${i}-x`, 'ST', start, 100_000, `TGT-${i}-x`));
    }
    await instances[0].tickets.add(ticket('TGT-live-x', 'TGT', start, 40 * 86_400_000));
    clock.advance(31 * 86_400_000);

    const runs = [];
    for (let round = 0; round < 3; round++) runs.push(...(await Promise.all(instances.map((s) => runHousekeeping(s, s.instanceId)))));
    const ran = runs.filter((r) => r.ran);
    // One run per round: the lease holder renews its lease, the other instances skip.
    expect(ran).toHaveLength(3);
    expect(ended).toHaveLength(30);
    expect(new Set(ended).size).toBe(30);
    expect(ran.reduce((n, r) => n + r.ticketsPurged, 0)).toBe(60);
    expect(ran.reduce((n, r) => n + r.accountsDisabled, 0)).toBe(5);
    expect((await instances[1].audit.query({ event: 'account_disabled_inactive' })).total).toBe(5);
    expect(await instances[2].tickets.countActive('TGT', clock.now())).toBe(1);
  });
});
