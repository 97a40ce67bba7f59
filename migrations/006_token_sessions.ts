import type { Knex } from 'knex';

/**
 * API tokens exchanged for a CAS ticket-granting ticket remember its key, so
 * that ending the session (logout, REST DELETE, expiry) also ends the token.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_tokens', (t) => {
    t.string('tgt_key', 64).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_tokens', (t) => {
    t.dropColumn('tgt_key');
  });
}
