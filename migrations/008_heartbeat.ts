import type { Knex } from 'knex';

/**
 * One row that readiness checks rewrite: a database that answers reads but
 * cannot be written (disk full, read-only) must not be reported ready.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('heartbeat', (t) => {
    t.integer('id').primary();
    t.string('instance_id', 128).notNullable();
    t.bigInteger('beat_at').notNullable();
  });
  await knex('heartbeat').insert({ id: 1, instance_id: 'migration', beat_at: 0 });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('heartbeat');
}
