import type { Knex } from 'knex';

/**
 * One expiry index on tickets instead of two: issuing and consuming a service
 * ticket are the two writes of every single sign-on, and each index is one
 * more B-tree page written per ticket. Idle expiry never passes the hard
 * expiry (the registry stores the earlier of the two), so `idle_expires_at`
 * alone says when a ticket is dead; rows where that did not hold are fixed first.
 * (Keying the SQLite table by the ticket hash, WITHOUT ROWID, was tried and
 * dropped: no gain in bench/sso.ts, and inserting a million tickets took twice as long.)
 */
export async function up(knex: Knex): Promise<void> {
  await knex('tickets').whereRaw('idle_expires_at > expires_at').update({ idle_expires_at: knex.ref('expires_at') });
  await knex.schema.alterTable('tickets', (t) => t.dropIndex(['expires_at'], 'tickets_expires_index'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => t.index(['expires_at'], 'tickets_expires_index'));
}
