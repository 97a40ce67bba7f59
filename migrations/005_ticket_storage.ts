import type { Knex } from 'knex';

const COLUMNS = 'id, kind, tgt_id, parent_id, account_id, principal, service, created_at, expires_at, idle_expires_at, data';

const isSqlite = (knex: Knex) => (knex.client as { config: { client: unknown } }).config.client === 'better-sqlite3';

/**
 * Rebuilds the SQLite tickets table, keyed by the ticket hash itself
 * (WITHOUT ROWID) or back to a rowid table. Column types as 001_core created them.
 */
async function rebuildSqliteTickets(knex: Knex, withoutRowid: boolean): Promise<void> {
  await knex.raw(`create table tickets_rebuilt (
    id varchar(64) not null primary key,
    kind varchar(8) not null,
    tgt_id varchar(64) null,
    parent_id varchar(64) null,
    account_id integer null,
    principal varchar(256) not null,
    service text null,
    created_at bigint not null,
    expires_at bigint not null,
    idle_expires_at bigint not null,
    data text null
  )${withoutRowid ? ' without rowid' : ''}`);
  await knex.raw(`insert into tickets_rebuilt (${COLUMNS}) select ${COLUMNS} from tickets`);
  await knex.raw('drop table tickets');
  await knex.raw('alter table tickets_rebuilt rename to tickets');
  await knex.raw('create index tickets_tgt_index on tickets (tgt_id)');
  await knex.raw('create index tickets_idle_expires_index on tickets (idle_expires_at)');
}

/**
 * Cheaper ticket writes: issuing and consuming a service ticket are the two
 * writes of every single sign-on.
 * - One expiry index instead of two: idle expiry never passes the hard expiry
 *   (the registry stores the earlier of the two), so `idle_expires_at` alone
 *   says when a ticket is dead. Rows where it did not hold are fixed first.
 * - SQLite: the table is stored in primary-key order (WITHOUT ROWID), so a
 *   ticket is one B-tree entry instead of a row plus a primary-key index entry.
 * Measured with bench/sso.ts; see the README's benchmark section.
 */
export async function up(knex: Knex): Promise<void> {
  await knex('tickets').whereRaw('idle_expires_at > expires_at').update({ idle_expires_at: knex.ref('expires_at') });
  if (isSqlite(knex)) {
    await rebuildSqliteTickets(knex, true);
    return;
  }
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(['expires_at'], 'tickets_expires_index'));
}

export async function down(knex: Knex): Promise<void> {
  if (isSqlite(knex)) await rebuildSqliteTickets(knex, false);
  await knex.schema.alterTable('tickets', (t) => t.index(['expires_at'], 'tickets_expires_index'));
}
