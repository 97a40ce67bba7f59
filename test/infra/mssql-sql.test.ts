import knexFactory, { type Knex } from 'knex';
import { MIGRATIONS } from '../../migrations';
import { AccountRepository } from '../../src/storage/accounts-repo';
import { AuditLog } from '../../src/storage/audit-log';
import { ConsoleStats } from '../../src/storage/console-stats';
import { NoticeStore } from '../../src/storage/notice-store';
import { KeyStore } from '../../src/storage/key-store';
import { LockoutStore } from '../../src/storage/lockout-store';
import { KnexTicketStore } from '../../src/storage/ticket-store';
import { ClientThrottleStore } from '../../src/storage/client-throttle-store';
import { MfaStore } from '../../src/storage/mfa-store';
import { KnexJobLeaseStore } from '../../src/storage/job-lease-store';
import { KnexSingleLogoutStore } from '../../src/storage/single-logout-store';
import { CachingServiceRegistry } from '../../src/cas/service-registry';
import { KnexServiceStore } from '../../src/storage/service-store';
import { ApiTokenService } from '../../src/admin/api-tokens';
import { KnexApiTokenStore } from '../../src/storage/api-token-store';
import { AccountStats } from '../../src/storage/account-stats';
import { KnexLegacyImportStore } from '../../src/storage/legacy-import-store';
import { ManualClock } from '../../src/shared/clock';

/**
 * SQL Server cannot run on this machine, so this test runs every migration
 * and every repository method against knex's real `mssql` dialect whose
 * driver is replaced by a recorder: the SQL is compiled exactly as it would
 * be sent to SQL Server (tedious is never connected), then checked for
 * T-SQL validity rules. The suite itself runs on a real SQL Server with
 * PORTCULLIS_TEST_DB=mssql (README, "SQL Server").
 */

interface Captured {
  /** The statement as sent, with @p0, @p1... parameters. */
  sentSql: string;
  /** The same with every parameter written `?` (easier to match). */
  sql: string;
  bindings: readonly unknown[];
  method: string | undefined;
  returning: unknown;
}

type Responder = (query: Captured) => unknown;

interface KnexQueryObject {
  sql: string;
  bindings?: unknown[];
  method?: string;
  returning?: unknown;
  response?: unknown;
}

// knex ships its dialect clients without type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MssqlClient = require('knex/lib/dialects/mssql') as new (config: Knex.Config) => object;

/** A tedious-like connection that accepts transactions and nothing else. */
function fakeConnection() {
  return {
    connected: true,
    inTransaction: false,
    state: { name: 'LoggedIn' },
    beginTransaction(cb: (err?: Error) => void) {
      this.inTransaction = true;
      cb();
    },
    commitTransaction(cb: (err?: Error) => void) {
      this.inTransaction = false;
      cb();
    },
    rollbackTransaction(cb: (err?: Error) => void) {
      this.inTransaction = false;
      cb();
    },
    saveTransaction(cb: (err?: Error) => void) {
      cb();
    },
  };
}

/** The answer a query gets when the scenario does not script one. */
function defaultResponse(q: Captured): unknown {
  if (q.method === 'first') return undefined;
  if (q.method === 'insert' && q.returning) return [{ id: 1 }];
  if (q.returning === '@@rowcount') return 1;
  if (q.returning) return [];
  return [];
}

function recordingMssql(): { knex: Knex; captured: Captured[]; respond: { next: Responder | null } } {
  const captured: Captured[] = [];
  const respond: { next: Responder | null } = { next: null };
  class RecordingMssqlClient extends MssqlClient {
    acquireRawConnection() {
      return Promise.resolve(fakeConnection());
    }
    destroyRawConnection() {
      return Promise.resolve();
    }
    validateConnection() {
      return true;
    }
    _query(_connection: unknown, query: KnexQueryObject) {
      const entry: Captured = { sentSql: query.sql, sql: query.sql.replace(/@p\d+/g, '?'), bindings: query.bindings ?? [], method: query.method, returning: query.returning };
      captured.push(entry);
      const scripted = respond.next?.(entry);
      query.response = scripted === undefined ? defaultResponse(entry) : scripted;
      return Promise.resolve(query);
    }
    processResponse(query: KnexQueryObject) {
      return query.response;
    }
  }
  const knex = knexFactory({ client: RecordingMssqlClient as unknown as typeof Knex.Client, connection: { server: 'recorder', database: 'portcullis' }, pool: { min: 0, max: 1 } });
  return { knex, captured, respond };
}

/** T-SQL rules every statement must satisfy, as [rule, offending pattern]. */
const FORBIDDEN: [string, RegExp][] = [
  ['LIMIT (T-SQL uses TOP / OFFSET FETCH)', /\blimit\s+(\?|@|\d)/i],
  ['RETURNING (T-SQL uses OUTPUT inserted.*)', /\breturning\b/i],
  ['ON CONFLICT (PostgreSQL/SQLite upsert)', /\bon\s+conflict\b/i],
  ['ILIKE (PostgreSQL only)', /\bilike\b/i],
  ['PostgreSQL cast ::', /::/],
  ['backtick identifiers', /`/],
  ['double-quoted identifiers', /"/],
  ['AUTOINCREMENT / SERIAL', /\b(autoincrement|serial|bigserial)\b/i],
  ['boolean type (T-SQL has bit)', /\bboolean\b/i],
  ['TRUE/FALSE literals', /(=|,|\(|\bthen|\belse|\bdefault)\s*(true|false)\b/i],
  ['|| concatenation', /\|\|/],
  ['NULLS FIRST/LAST', /\bnulls\s+(first|last)\b/i],
  ['INSERT OR IGNORE / REPLACE', /\binsert\s+or\s+(ignore|replace)\b/i],
  ['ON DUPLICATE KEY (MySQL)', /\bon\s+duplicate\s+key\b/i],
  ['GREATEST/LEAST (SQL Server 2022+ only)', /\b(greatest|least)\s*\(/i],
  ['a text column type (deprecated in SQL Server; knex maps text to nvarchar(max))', /\s(text|ntext)(\s|,|\))/i],
];

function violations(q: Captured): string[] {
  const found = FORBIDDEN.filter(([, pattern]) => pattern.test(q.sql)).map(([rule]) => rule);
  if (q.bindings.length >= 2100) found.push(`${q.bindings.length} parameters (SQL Server allows 2099)`);
  if (/\boffset\b/i.test(q.sql) && !/\border by\b/i.test(q.sql)) found.push('OFFSET without ORDER BY');
  const parameters = new Set(q.sentSql.match(/@p\d+/g) ?? []);
  if (parameters.size !== q.bindings.length || (q.bindings.length > 0 && !parameters.has(`@p${q.bindings.length - 1}`))) found.push('parameters differ from bindings');
  return found;
}

function expectValidTsql(captured: Captured[]): void {
  expect(captured.length).toBeGreaterThan(0);
  const problems = captured.flatMap((q) => violations(q).map((v) => `${v}: ${q.sql}`));
  expect(problems).toEqual([]);
}

/** Calls every public method of `target` through `scenario` and fails if one was never called. */
async function exerciseAll<T extends object>(target: T, scenario: (proxy: T) => Promise<void>, privateHelpers: string[] = []): Promise<void> {
  const called = new Set<string>();
  const proxy = new Proxy(target, {
    get(obj, property, receiver) {
      const value: unknown = Reflect.get(obj, property, receiver);
      if (typeof value === 'function' && typeof property === 'string') called.add(property);
      return value;
    },
  });
  await scenario(proxy);
  const methods = new Set<string>();
  for (let proto = Object.getPrototypeOf(target) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) if (name !== 'constructor') methods.add(name);
  }
  expect([...methods].filter((m) => !called.has(m) && !privateHelpers.includes(m))).toEqual([]);
}

const accountRow = {
  id: 7, username: 'alice', username_key: 'alice', display_name: null, email: null, description: null, role: 'user', enabled: true, source: 'internal',
  external_id: null, password_hash: '$argon2id$x', must_change_password: false, password_changed_at: '1', last_login_at: null, created_at: '1', updated_at: '1', version: 1,
};
const ticketRow = { id: 'k', kind: 'TGT', tgt_id: null, parent_id: null, account_id: 7, principal: 'alice', service: null, created_at: '1', expires_at: '2', idle_expires_at: '2', data: '{}' };

describe('SQL Server dialect (compiled offline)', () => {
  let db: ReturnType<typeof recordingMssql>;
  beforeEach(() => {
    db = recordingMssql();
  });
  afterEach(() => db.knex.destroy());

  it('compiles every migration, up and down, to valid T-SQL with bigint times, bit booleans and nvarchar strings', async () => {
    for (const { migration } of MIGRATIONS) await migration.up(db.knex);
    const creates = db.captured.filter((q) => /^create table/i.test(q.sql));
    expect(creates.length).toBeGreaterThanOrEqual(MIGRATIONS.length);
    expectValidTsql(db.captured);
    const ddl = creates.map((q) => q.sql).join('\n');
    for (const match of ddl.matchAll(/\[(\w+_at|locked_until|window_start)\] (\w+)/g)) expect(`${match[1]} ${match[2]}`).toBe(`${match[1]} bigint`);
    for (const match of ddl.matchAll(/\[(enabled|must_change_password)\] (\w+)/g)) expect(`${match[1]} ${match[2]}`).toBe(`${match[1]} bit`);
    expect(ddl).toMatch(/\[username_key\] nvarchar\(256\)/);
    expect(ddl).toMatch(/\[id\] int identity\(1,1\) not null primary key/);
    expect(ddl).toMatch(/\[id\] bigint identity\(1,1\) not null primary key/);
    // Defaults for bit columns are 0/1, never TRUE/FALSE.
    expect(ddl).toMatch(/\[enabled\] bit not null CONSTRAINT \[\w+\] DEFAULT '1'/);
    db.captured.length = 0;
    for (const { name, migration } of [...MIGRATIONS].reverse()) {
      if (!migration.down) throw new Error(`migration ${name} has no down()`);
      await migration.down(db.knex);
    }
    expectValidTsql(db.captured);
  });

  it('compiles every AccountRepository query: OUTPUT inserted.id for new ids, TOP/OFFSET FETCH for paging, ESCAPE for searches', async () => {
    db.respond.next = (q) => {
      if (/^select \[id\] from \[password_history\]/.test(q.sql) && /offset/.test(q.sql)) return [{ id: 1 }, { id: 2 }];
      if (/^select \[id\], \[username\] from \[accounts\]/.test(q.sql)) return [{ id: 7, username: 'alice' }];
      if (/^select top \(\?\) \* from \[accounts\]/.test(q.sql)) return accountRow;
      if (/count\(\*\)/.test(q.sql)) return [{ n: 3 }];
      return undefined;
    };
    await exerciseAll(new AccountRepository(db.knex), async (repo) => {
      await repo.transaction(async (tx) => {
        await tx.lockAdministratorRoster();
        await tx.countAdministrators(true);
      });
      await repo.lockAdministratorRoster();
      await repo.findByKey('alice');
      await repo.findByKeyWithFactors('alice');
      await repo.findById(7);
      await repo.list({ role: 'admin', source: 'internal', enabled: true, search: 'a_b%[c', offset: 10, limit: 5 });
      await repo.listWithLockout({ locked: true }, 5);
      await repo.listWithLockout({ locked: false, search: 'Ａ' }, 5);
      await repo.countAdministrators(false);
      await repo.countLegacyHashes();
      await repo.insert({ username: 'alice', usernameKey: 'alice', role: 'user', source: 'internal', passwordHash: 'h' }, 1);
      await repo.update(7, { displayName: 'A', enabled: false, role: 'admin' }, 2, 1);
      await repo.setPassword(7, 'h2', true, 3);
      await repo.replaceHash(7, 'h', 'h2');
      await repo.recordLogin(7, 4);
      await repo.delete(7);
      await repo.passwordHistory(7, 5);
      await repo.addPasswordHistory(7, 'h', 5, 3);
      await repo.disableInactive(1, 2);
      await repo.flagMustChangePassword(7, 6);
    });
    expectValidTsql(db.captured);
    const sql = db.captured.map((q) => q.sql);
    expect(sql).toContainEqual(expect.stringMatching(/^insert into \[accounts\] .* output inserted\.\[id\] values/));
    expect(sql).toContainEqual(expect.stringMatching(/order by \[username_key\] asc offset \? rows fetch next \? rows only/));
    expect(sql).toContainEqual(expect.stringMatching(/username_key LIKE \? ESCAPE '\\'/));
    expect(sql).toContainEqual(expect.stringMatching(/^update \[policy_locks\] set \[version\] = \[version\] \+ \? where \[name\] = \?;select @@rowcount$/));
    const search = db.captured.find((q) => /ESCAPE/.test(q.sql) && !/count\(/.test(q.sql));
    expect(search?.bindings).toContain('%a\\_b\\%\\[c%');
  });

  it('compiles the lockout, audit, key and ticket queries; expired-ticket deletes stay under 2100 parameters', async () => {
    db.respond.next = (q) => {
      if (/^update \[lockout_state\]/.test(q.sql)) return [{ failure_count: 1, locked_until: null }];
      if (/^select top \(\?\) \* from \[lockout_state\]/.test(q.sql)) return { failure_count: 2, locked_until: null };
      if (/^select top \(\?\) \* from \[server_keys\]/.test(q.sql)) return { value: Buffer.alloc(32).toString('base64') };
      if (/^select top \(\?\) \* from \[tickets\] where \[id\]/.test(q.sql)) return ticketRow;
      if (/count\(\*\)/.test(q.sql)) return [{ n: 1 }];
      if (/^select \* from \[audit_events\]/.test(q.sql)) return [{ id: '1', at: '1', event: 'login', outcome: 'success', details: '{}' }];
      return undefined;
    };
    await exerciseAll(new LockoutStore(db.knex), async (store) => {
      await store.get('alice');
      await store.claim('alice', 10, 3, 900_000);
      await store.claim('alice', 10, 1, 900_000);
      await store.release('alice', { failureCount: 1, lockedUntil: null });
      await store.release('alice', { failureCount: 3, lockedUntil: 900_010 });
      await store.reset('alice');
      await store.purgeStale(1, 2);
    });
    await exerciseAll(new AuditLog(db.knex), async (audit) => {
      audit.observe(() => undefined);
      await audit.append({ event: 'login', outcome: 'success', username: 'alice', details: { channel: 'test' } }, 1);
      await audit.appendMany(Array.from({ length: 250 }, (_, i) => ({ event: 'account_imported', outcome: 'success' as const, username: `user${i}`, actor: 'import' })), 1);
      await audit.query({ username: 'alice', event: 'login', from: 1, to: 2, offset: 0, limit: 10 });
    });
    await exerciseAll(new KeyStore(db.knex), async (keys) => {
      await keys.getOrCreate('form-signing', 1);
    });
    const manyExpired = Array.from({ length: 1700 }, (_, i) => ({ ...ticketRow, id: `k${i}`, kind: i % 2 ? 'ST' : 'TGT' }));
    await exerciseAll(new KnexTicketStore(db.knex), async (tickets) => {
      const ticket = { id: 'TGT-1-x', kind: 'TGT' as const, tgtKey: null, parentKey: null, accountId: 7, principal: 'alice', service: null, createdAt: 1, expiresAt: 2, idleExpiresAt: 2, data: {} };
      await tickets.add(ticket);
      await tickets.get('TGT-1-x', 'TGT', 1);
      await tickets.consume('ST-1-x', ['ST'], 1);
      await tickets.touch('TGT-1-x', 5);
      await tickets.updateData('TGT-1-x', { methods: ['password', 'totp'] });
      await tickets.deleteSession('TGT-1-x');
      const previous = db.respond.next;
      db.respond.next = (q) => (/^select top \(\?\) \[id\] from \[tickets\] where \[idle_expires_at\] <= \?/.test(q.sql) ? manyExpired : previous?.(q));
      await tickets.deleteExpired(3, 5000);
      db.respond.next = previous;
      await tickets.countActive('TGT', 1);
      await tickets.sessionsOf(7, 1);
      await tickets.deleteSessionByKey('k1');
    });
    expectValidTsql(db.captured);
    const sql = db.captured.map((q) => q.sql);
    expect(sql).toContainEqual(expect.stringMatching(/^update \[lockout_state\] set .*CAST\(\? AS BIGINT\).* output inserted\.\[failure_count\], inserted\.\[locked_until\] where/s));
    expect(sql).toContainEqual(expect.stringMatching(/^select top \(\?\) \[id\] from \[tickets\] where \[idle_expires_at\] <= \?$/));
    const chunkedDeletes = db.captured.filter((q) => /^delete from \[tickets\] output deleted\.\* where \[id\] in/.test(q.sql));
    expect(chunkedDeletes.length).toBeGreaterThanOrEqual(4);
  });

  it('compiles the second-factor queries: conditional step update, transactions for enrolment, consumption and rotation', async () => {
    db.respond.next = (q) => {
      if (/^select \[id\], \[account_id\], \[secret\] from \[mfa_factors\]/.test(q.sql)) return [{ id: 1, account_id: 7, secret: 'v1.x' }];
      if (/^select top \(\?\) \* from \[mfa_factors\]/.test(q.sql)) return { id: 1, account_id: 7, kind: 'totp', name: 'phone', secret: 'v1.x', code_hash: null, last_used_step: 1, created_at: 1, last_used_at: null };
      return undefined;
    };
    await exerciseAll(new MfaStore(db.knex), async (store) => {
      await store.list(7);
      await store.kinds(7);
      await store.anyExist();
      await store.addTotp(7, 'phone', 'v1.x', 100, ['a'.repeat(64), 'b'.repeat(64)], 1);
      await store.replaceRecoveryCodes(7, ['c'.repeat(64)], 2);
      await store.useStep(1, 101, 3);
      await store.consumeRecoveryCode(2, 7);
      await store.remove(7, 1);
      await store.reset(7);
      await store.reviewFlag(7);
      await store.sealedSecrets();
      await store.resealAll((secret) => secret);
    });
    expectValidTsql(db.captured);
    const sql = db.captured.map((q) => q.sql);
    expect(sql).toContainEqual(expect.stringMatching(/^update \[mfa_factors\] set .* where \[id\] = \? and \(\[last_used_step\] is null or \[last_used_step\] < \?\)/));
  });

  it('compiles the console dashboard and notice acceptance queries', async () => {
    db.respond.next = (q) => (/count\(\*\)/.test(q.sql) ? [{ n: 1, bucket: 0, event: 'login', outcome: 'success', role: 'user', source: 'internal', enabled: true }] : undefined);
    await exerciseAll(new ConsoleStats(db.knex), async (stats) => {
      await stats.accountBreakdown();
      await stats.signInsPerHour(1_767_225_600_000, 24);
      await stats.recentLockouts(10);
    });
    await exerciseAll(new NoticeStore(db.knex), async (notices) => {
      await notices.hasAccepted(7, 'v1');
      await notices.accept(7, 'v1', 'ja', 1);
    });
    expectValidTsql(db.captured);
    const sql = db.captured.map((q) => q.sql);
    expect(sql).toContainEqual(expect.stringMatching(/group by \(at - \d+\) \/ 3600000, event, outcome$/));
  });

  it('compiles the throttle and lease queries (conditional updates, no upsert syntax)', async () => {
    db.respond.next = (q) => {
      if (/^update \[client_ip_throttle\]/.test(q.sql)) return 0;
      if (/^select top \(\?\) \[failure_count\], \[window_start\]/.test(q.sql)) return { failure_count: 3, window_start: 1 };
      if (/^select top \(\?\) \[holder\]/.test(q.sql)) return { holder: 'a' };
      return undefined;
    };
    await exerciseAll(new ClientThrottleStore(db.knex), async (t) => {
      await t.window('192.0.2.1', 2, 60_000);
      await t.recordFailure('192.0.2.1', 2, 60_000);
      await t.purgeStale(1);
    });
    await exerciseAll(new KnexJobLeaseStore(db.knex), async (leases) => {
      await leases.tryAcquire('housekeeping', 'a', 1, 60_000);
      await leases.release('housekeeping', 'a');
      await leases.holder('housekeeping', 1);
    });
    expectValidTsql(db.captured);
    expect(db.captured.map((q) => q.sql)).toContainEqual(
      expect.stringMatching(/^update \[job_leases\] set .* where \[name\] = \? and \(\[expires_at\] <= \? or \(\[holder\] = \?\)\);select @@rowcount$/),
    );
  });
  it('compiles the CAS service registry, single-logout queue and admin API token queries', async () => {
    const serviceRow = {
      id: 3, name: 'app', description: null, service_url: 'https://app.example.test/', evaluation_order: 0, enabled: true, proxy_callback: null,
      accepts_proxy_tickets: false, released_attributes: '[]', logout_type: 'back_channel', logout_url: null, created_at: '1', updated_at: '1', version: 1,
    };
    const tokenRow = { id: 'tok_abc', token_hash: 'h', account_id: 7, username: 'alice', scope: 'full', client_ip: null, created_at: '1', expires_at: '2' };
    db.respond.next = (q) => {
      if (/ from \[cas_services\]/.test(q.sql) && q.method !== 'insert') return q.method === 'first' ? serviceRow : [serviceRow];
      if (/^select \* from \[cas_session_services\]/.test(q.sql)) return [{ id: '1', tgt_key: 'k', service_id: 3, service_url: 'https://app.example.test/', ticket_id: 'ST-x' }];
      if (/^select top \(\?\) \* from \[cas_logout_deliveries\]/.test(q.sql) || /^select \* from \[cas_logout_deliveries\]/.test(q.sql)) return [];
      if (/^select \* from \[api_tokens\]|^select top \(\?\) \* from \[api_tokens\]/.test(q.sql)) return q.method === 'first' ? tokenRow : [tokenRow];
      if (/count\(\*\)/.test(q.sql)) return [{ n: 1 }];
      return undefined;
    };
    const clock = new ManualClock(10);
    // Every query of the store, reached through the registry that the protocol and the admin API use.
    await exerciseAll(new KnexServiceStore(db.knex), async (store) => {
      const registry = new CachingServiceRegistry(store, clock, 0);
      await registry.list();
      await registry.get(3);
      await registry.findByName('app');
      registry.validate({ name: 'app', serviceUrl: 'https://app.example.test/' });
      await registry.create({ name: 'app', serviceUrl: 'https://app.example.test/' });
      await registry.update(3, { description: 'x' }, 1);
      await registry.delete(3);
      await registry.match('https://app.example.test/');
      await registry.resolve(3);
    });
    await exerciseAll(new KnexSingleLogoutStore(db.knex), async (store) => {
      await store.addParticipants(Array.from({ length: 300 }, (_, i) => ({ tgtKey: 'k', serviceId: 3, serviceUrl: 'https://app.example.test/', ticketId: `ST-${i}`, createdAt: 1, expiresAt: 2 })));
      await store.takeParticipants('k');
      await store.purgeParticipants(1);
      await store.enqueue([{ serviceId: 3, url: 'https://app.example.test/', body: '<samlp:LogoutRequest/>' }], 1);
      await store.due(1, 10);
      await store.claim({ id: 1, serviceId: 3, url: 'u', body: 'b', attempts: 0, nextAttemptAt: 1 }, 1, 2);
      await store.complete(1);
      await store.reschedule(1, 2, 'timeout');
      await store.pending();
    });
    await exerciseAll(new ApiTokenService(new KnexApiTokenStore(db.knex), new AuditLog(db.knex), clock, () => 900), async (tokens) => {
      const account = { id: 7, username: 'alice' } as Parameters<ApiTokenService['issue']>[0];
      const { secret, token } = await tokens.issue(account, 'full', { clientIp: '192.0.2.1', userAgent: null, channel: 'api' });
      await tokens.authenticate(secret);
      await tokens.find(token.id);
      await tokens.list({ username: 'alice', offset: 0, limit: 10 });
      await tokens.countActive();
      await tokens.revoke(token, 'test', { name: 'admin' });
      await tokens.revokeAllFor(7, 'test', { name: 'admin' }, 'tok_keep');
    });
    await exerciseAll(new KnexApiTokenStore(db.knex), async (store) => {
      await store.deleteExpired(1);
      await store.insert({ id: 'tok_a', accountId: 7, username: 'alice', scope: 'full', clientIp: null, createdAt: 1, expiresAt: 2 }, 'h', 'k');
      await store.findLive({ tokenHash: 'h' }, 1);
      await store.findLive({ id: 'tok_a' }, 1);
      await store.listLive({ username: 'alice', offset: 5, limit: 10 }, 1);
      await store.countLive(1);
      await store.listForAccount(7, 'tok_keep');
      await store.delete('tok_a');
    }, ['live']);
    await exerciseAll(new KnexLegacyImportStore(db.knex), async (store) => {
      await store.existingKeys(Array.from({ length: 600 }, (_, i) => `user${i}`));
      await store.countAdministrators();
      await store.transaction((tx) => tx.countAdministrators(true));
      const account = { username: 'alice', usernameKey: 'alice', displayName: null, email: null, role: 'user' as const, enabled: true, source: 'internal', passwordHash: '0'.repeat(32) };
      await store.insertAccounts(Array.from({ length: 150 }, () => account), 1);
      await store.audit([{ event: 'account_imported', outcome: 'success', username: 'alice', actor: 'cli' }], 1);
    });
    await exerciseAll(new AccountStats(db.knex), async (stats) => {
      await stats.counts();
      await stats.lockStates(1);
    }, ['count']);
    expectValidTsql(db.captured);
    expect(db.captured.map((q) => q.sql)).toContainEqual(expect.stringMatching(/^insert into \[cas_services\] .* output inserted\.\[id\] values/));
  });
});
