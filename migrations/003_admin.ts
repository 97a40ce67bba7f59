import type { Knex } from 'knex';

/**
 * Administration API bearer tokens. Only the SHA-256 of a token is stored, so
 * a copy of the table grants nothing; every instance sharing the database
 * accepts every token. `id` is the public handle used to list and revoke.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_tokens', (t) => {
    t.string('id', 32).primary();
    t.string('token_hash', 64).notNullable().unique('api_tokens_token_hash_unique');
    t.integer('account_id').notNullable().references('id').inTable('accounts').onDelete('CASCADE');
    t.string('username', 256).notNullable();
    // 'full', or 'password_change' (may only read /me and change the password).
    t.string('scope', 32).notNullable();
    t.string('client_ip', 64).nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['account_id'], 'api_tokens_account_index');
    t.index(['expires_at'], 'api_tokens_expires_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('api_tokens');
}
