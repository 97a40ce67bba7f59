import type { Knex } from 'knex';

/**
 * Who accepted which version of the notice (acceptable-use page, `ui.notice`)
 * and when. One row per account and version: a new version asks again.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notice_acceptances', (t) => {
    t.integer('account_id').unsigned().notNullable().references('id').inTable('accounts').onDelete('CASCADE');
    t.string('version', 64).notNullable();
    t.string('language', 8).notNullable();
    t.bigInteger('accepted_at').notNullable();
    t.primary(['account_id', 'version']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('notice_acceptances');
}
