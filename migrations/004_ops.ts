import type { Knex } from 'knex';

/**
 * Operations tables shared by every instance. Portable like 001_core:
 * epoch-ms bigints, no dialect-specific SQL.
 */
export async function up(knex: Knex): Promise<void> {
  // Failed logins per client address (IPv4 address or IPv6 /64), in fixed windows:
  // throttles password spraying across many accounts from one place.
  await knex.schema.createTable('client_ip_throttle', (t) => {
    t.string('client_key', 64).primary();
    t.integer('failure_count').notNullable().defaultTo(0);
    t.bigInteger('window_start').notNullable();
    t.bigInteger('last_failure_at').notNullable();
    t.index(['last_failure_at'], 'client_ip_throttle_last_failure_index');
  });

  // Background jobs every instance schedules but only the lease holder runs.
  await knex.schema.createTable('job_leases', (t) => {
    t.string('name', 64).primary();
    t.string('holder', 128).notNullable();
    t.bigInteger('acquired_at').notNullable();
    t.bigInteger('expires_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('job_leases');
  await knex.schema.dropTableIfExists('client_ip_throttle');
}
