import type { Knex } from 'knex';

/**
 * Second factors: TOTP secrets (encrypted at rest with the MFA key, never in
 * clear) and single-use recovery codes (only their SHA-256). `last_used_step`
 * makes a TOTP code single-use: a conditional UPDATE accepts a step only if it
 * is later than the last one used. Registered services say whether they
 * require a second factor; accounts carry a "review your factors" flag set
 * when a recovery code is used.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('mfa_factors', (t) => {
    t.increments('id').primary();
    t.integer('account_id').notNullable().references('id').inTable('accounts').onDelete('CASCADE');
    t.string('kind', 16).notNullable();
    t.string('name', 64).notNullable();
    t.text('secret').nullable();
    t.string('code_hash', 64).nullable();
    t.bigInteger('last_used_step').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_used_at').nullable();
    t.index(['account_id'], 'mfa_factors_account_index');
  });
  await knex.schema.alterTable('accounts', (t) => {
    t.boolean('mfa_review').notNullable().defaultTo(false);
  });
  await knex.schema.alterTable('cas_services', (t) => {
    t.string('mfa', 16).notNullable().defaultTo('optional');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('cas_services', (t) => {
    t.dropColumn('mfa');
  });
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('mfa_review');
  });
  await knex.schema.dropTable('mfa_factors');
}
