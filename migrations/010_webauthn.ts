import type { Knex } from 'knex';

/**
 * WebAuthn security keys and passkeys. A key is a second factor like a TOTP
 * app, so it is a row of `mfa_factors` (kind 'webauthn'): listing, removal,
 * reset and "has a factor" need no second table. Its credential ID is looked
 * up by SHA-256 (`credential_hash`, unique: fits any database's index limit
 * whatever the ID's length), its COSE public key is not secret, and
 * `sign_count` is the last signature counter seen (a counter that does not
 * grow means a cloned authenticator).
 *
 * Ceremony challenges live in `webauthn_challenges`, so any instance can finish
 * a ceremony another began; a challenge is deleted by the one request that
 * uses it, and is worthless after `expires_at`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('mfa_factors', (t) => {
    t.string('credential_hash', 64).nullable();
    t.text('credential_id').nullable();
    t.text('public_key').nullable();
    t.bigInteger('sign_count').nullable();
    t.string('transports', 128).nullable();
  });
  // Filtered: other factors have no credential, and SQL Server's plain unique index admits a single NULL.
  await knex.raw('CREATE UNIQUE INDEX mfa_factors_credential_unique ON mfa_factors (credential_hash) WHERE credential_hash IS NOT NULL');
  await knex.schema.createTable('webauthn_challenges', (t) => {
    t.string('challenge', 64).primary();
    t.string('ceremony', 16).notNullable();
    t.integer('account_id').nullable().references('id').inTable('accounts').onDelete('CASCADE');
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at'], 'webauthn_challenges_expiry_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webauthn_challenges');
  await knex.schema.alterTable('mfa_factors', (t) => {
    t.dropIndex(['credential_hash'], 'mfa_factors_credential_unique');
    t.dropColumn('credential_hash');
    t.dropColumn('credential_id');
    t.dropColumn('public_key');
    t.dropColumn('sign_count');
    t.dropColumn('transports');
  });
}
