import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { MIGRATIONS } from '../../migrations';
import { databaseSchema } from '../../src/config/schema';
import { knexOptions } from '../../src/storage/db';
import { KnexTicketStore } from '../../src/storage/ticket-store';

const HOUR = 3_600_000;

function sqliteFile(database: Record<string, unknown> = {}): Knex {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-tickets-'));
  return knexFactory(knexOptions(databaseSchema.parse({ client: 'sqlite', filename: 'db.sqlite', ...database }), dir, {}).options);
}

const byName = (name: string) => {
  const found = MIGRATIONS.find((m) => m.name === name);
  if (!found?.migration.down) throw new Error(`no migration ${name} with up and down`);
  return { up: found.migration.up, down: found.migration.down };
};

async function ticketIndexes(knex: Knex): Promise<string[]> {
  const rows = await knex('sqlite_master').where({ type: 'index', tbl_name: 'tickets' }).whereNotNull('sql').select('name');
  return rows.map((r: { name: string }) => r.name).sort();
}

function row(id: string, kind: string, expiresAt: number, idleExpiresAt: number, tgt: string | null = null) {
  return { id, kind, tgt_id: tgt, parent_id: tgt, account_id: 1, principal: 'alice', service: kind === 'TGT' ? null : 'https://app.example.org/', created_at: 1, expires_at: expiresAt, idle_expires_at: idleExpiresAt, data: '{"a":1}' };
}

describe('ticket storage (migration 005)', () => {
  let knex: Knex;
  beforeEach(() => {
    knex = sqliteFile();
  });
  afterEach(() => knex.destroy());

  it('leaves one expiry index, and fixes rows whose idle expiry passed the hard expiry', async () => {
    for (const { name, migration } of MIGRATIONS) if (name < '005') await migration.up(knex);
    expect(await ticketIndexes(knex)).toEqual(['tickets_expires_index', 'tickets_idle_expires_index', 'tickets_tgt_index']);
    // One row written before the registry kept idle expiry at or under the hard expiry.
    await knex('tickets').insert([row('tgt-key', 'TGT', 5 * HOUR, 9 * HOUR), row('st-key', 'ST', 2 * HOUR, 2 * HOUR, 'tgt-key')]);

    await byName('005_ticket_storage').up(knex);
    expect(await ticketIndexes(knex)).toEqual(['tickets_idle_expires_index', 'tickets_tgt_index']);
    const rows = await knex('tickets').orderBy('id');
    expect(rows).toEqual([row('st-key', 'ST', 2 * HOUR, 2 * HOUR, 'tgt-key'), row('tgt-key', 'TGT', 5 * HOUR, 5 * HOUR)]);
    // The purge query uses the remaining index rather than scanning the table.
    const plan = await knex.raw('explain query plan select id from tickets where idle_expires_at <= ? limit 10', [HOUR]);
    expect(JSON.stringify(plan)).toContain('tickets_idle_expires_index');

    await byName('005_ticket_storage').down(knex);
    expect(await ticketIndexes(knex)).toEqual(['tickets_expires_index', 'tickets_idle_expires_index', 'tickets_tgt_index']);
    expect(await knex('tickets').count({ n: '*' })).toEqual([{ n: 2 }]);
  });

  // Idle expiry kept at or under the hard expiry, and the purge of tickets past either: test/contracts/ticket-registry.contract.ts.

  it('gives the SQLite connection the configured page cache (256 MiB unless database.sqliteCacheMiB says otherwise)', async () => {
    const cacheKiB = async (k: Knex) => -Number((await k.raw('pragma cache_size'))[0].cache_size);
    expect(await cacheKiB(knex)).toBe(256 * 1024);
    const small = sqliteFile({ sqliteCacheMiB: 8 });
    try {
      expect(await cacheKiB(small)).toBe(8 * 1024);
    } finally {
      await small.destroy();
    }
    expect(() => databaseSchema.parse({ sqliteCacheMiB: 1 })).toThrow();
  });

  it('group-commits the tickets of one event-loop turn, and still hands each consumed ticket to one caller only', async () => {
    for (const { migration } of MIGRATIONS) await migration.up(knex);
    const registry = new KnexTicketStore(knex);
    const statements: string[] = [];
    knex.on('query', (q: { sql: string }) => statements.push(q.sql));
    const st = (n: number) => ({ id: `ST-${n}`, kind: 'ST' as const, tgtKey: 'tgt', parentKey: 'tgt', accountId: 1, principal: `user${n}`, service: 'https://app.example.org/', createdAt: 0, expiresAt: HOUR, idleExpiresAt: HOUR, data: { n } });

    await Promise.all(Array.from({ length: 40 }, (_, n) => registry.add(st(n))));
    expect(statements.filter((sql) => /^insert into `tickets`/.test(sql))).toHaveLength(1);

    statements.length = 0;
    const found = await Promise.all([registry.get('ST-1', 'ST', 1), registry.get('ST-1', 'ST', 1), registry.get('ST-2', 'TGT', 1), registry.get('ST-99', 'ST', 1)]);
    expect(found.map((t) => t?.principal ?? null)).toEqual(['user1', 'user1', null, null]);
    expect(statements).toHaveLength(1);

    statements.length = 0;
    // Twenty validators race for ST-7 in the same turn, alongside one for ST-8 and a PGT lookup of an ST.
    const [racers, other, wrongKind] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, () => registry.consume('ST-7', ['ST'], 1))),
      registry.consume('ST-8', ['ST', 'PT'], 1),
      registry.consume('ST-9', ['PGT'], 1),
    ]);
    expect(racers.filter((t) => t !== null).map((t) => t?.principal)).toEqual(['user7']);
    expect(other?.principal).toBe('user8');
    expect(wrongKind).toBeNull();
    expect(await registry.get('ST-9', 'ST', 1)).not.toBeNull();
    // One DELETE … RETURNING per set of kinds asked for, then the lookup above.
    expect(statements.filter((sql) => /^delete from `tickets`/.test(sql))).toHaveLength(3);
    expect(await registry.consume('ST-7', ['ST'], 1)).toBeNull();
  });
});
