import type { Knex } from 'knex';

/**
 * CAS protocol tables: the service registry, the services that took part in
 * each single sign-on session (for single logout), and the queue of pending
 * back-channel logout notifications, drained by every instance.
 * Portable like 001_core: epoch-ms bigints, knex booleans, no dialect SQL.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cas_services', (t) => {
    t.increments('id').primary();
    t.string('name', 128).notNullable().unique('cas_services_name_unique');
    t.text('description').nullable();
    // An exact URL, or a pattern when it contains '*' (syntax in src/cas/service-pattern.ts).
    t.text('service_url').notNullable();
    t.integer('evaluation_order').notNullable().defaultTo(0);
    t.boolean('enabled').notNullable().defaultTo(true);
    // Pattern the pgtUrl must match; null = the service may not obtain proxy-granting tickets.
    t.text('proxy_callback').nullable();
    t.boolean('accepts_proxy_tickets').notNullable().defaultTo(false);
    // JSON array of attribute names released to the service.
    t.text('released_attributes').notNullable();
    t.string('logout_type', 16).notNullable().defaultTo('back_channel');
    t.text('logout_url').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.integer('version').notNullable().defaultTo(1);
  });

  // One row per validated service ticket: who to notify when the session ends.
  await knex.schema.createTable('cas_session_services', (t) => {
    t.bigIncrements('id').primary();
    t.string('tgt_key', 64).notNullable();
    t.integer('service_id').notNullable();
    t.text('service_url').notNullable();
    // The (already consumed, so harmless) ticket: the SessionIndex of the logout request.
    t.string('ticket_id', 256).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['tgt_key'], 'cas_session_services_tgt_index');
    t.index(['expires_at'], 'cas_session_services_expires_index');
  });

  await knex.schema.createTable('cas_logout_deliveries', (t) => {
    t.bigIncrements('id').primary();
    t.integer('service_id').nullable();
    t.text('url').notNullable();
    t.text('body').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('next_attempt_at').notNullable();
    // Set while one instance is delivering; a crashed instance's claim lapses.
    t.bigInteger('claimed_until').nullable();
    t.string('last_error', 512).nullable();
    t.bigInteger('created_at').notNullable();
    t.index(['next_attempt_at'], 'cas_logout_deliveries_due_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['cas_logout_deliveries', 'cas_session_services', 'cas_services']) await knex.schema.dropTableIfExists(table);
}
