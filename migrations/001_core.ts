import type { Knex } from 'knex';

/**
 * Core schema. Portable across SQLite, PostgreSQL and SQL Server: times are
 * epoch milliseconds in bigint columns (no dialect date types), booleans go
 * through knex's boolean type, and no dialect-specific SQL is used.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('accounts', (t) => {
    t.increments('id').primary();
    t.string('username', 256).notNullable();
    // NFKC + lower-case form; the uniqueness that matters.
    t.string('username_key', 256).notNullable().unique('accounts_username_key_unique');
    t.string('display_name', 256).nullable();
    t.string('email', 320).nullable();
    t.text('description').nullable();
    t.string('role', 16).notNullable().defaultTo('user');
    t.boolean('enabled').notNullable().defaultTo(true);
    t.string('source', 32).notNullable().defaultTo('internal');
    t.string('external_id', 1024).nullable();
    t.string('password_hash', 512).nullable();
    t.boolean('must_change_password').notNullable().defaultTo(false);
    t.bigInteger('password_changed_at').nullable();
    t.bigInteger('last_login_at').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.integer('version').notNullable().defaultTo(1);
    t.index(['role'], 'accounts_role_index');
  });

  // Lockout counters are keyed by name, not account, so unknown names lock the same way.
  await knex.schema.createTable('lockout_state', (t) => {
    t.string('username_key', 256).primary();
    t.integer('failure_count').notNullable().defaultTo(0);
    t.bigInteger('locked_until').nullable();
    t.bigInteger('last_failure_at').nullable();
  });

  await knex.schema.createTable('password_history', (t) => {
    t.increments('id').primary();
    t.integer('account_id').notNullable().references('id').inTable('accounts').onDelete('CASCADE');
    t.string('password_hash', 512).notNullable();
    t.bigInteger('created_at').notNullable();
    t.index(['account_id'], 'password_history_account_index');
  });

  // All CAS tickets (TGT, ST, PT, PGT). The key is the SHA-256 of the ticket id,
  // so a copy of the table does not hand out live sessions.
  await knex.schema.createTable('tickets', (t) => {
    t.string('id', 64).primary();
    t.string('kind', 8).notNullable();
    t.string('tgt_id', 64).nullable();
    t.string('parent_id', 64).nullable();
    t.integer('account_id').nullable();
    t.string('principal', 256).notNullable();
    t.text('service').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('idle_expires_at').notNullable();
    t.text('data').nullable();
    t.index(['tgt_id'], 'tickets_tgt_index');
    t.index(['expires_at'], 'tickets_expires_index');
    t.index(['idle_expires_at'], 'tickets_idle_expires_index');
  });

  // Secrets generated on first start and shared by every instance (CSRF and cookie keys).
  await knex.schema.createTable('server_keys', (t) => {
    t.string('name', 64).primary();
    t.string('value', 256).notNullable();
    t.bigInteger('created_at').notNullable();
  });

  // One row per guarded roster; updating the row serializes transactions that change it.
  await knex.schema.createTable('policy_locks', (t) => {
    t.string('name', 64).primary();
    t.integer('version').notNullable().defaultTo(0);
  });
  await knex('policy_locks').insert({ name: 'administrators', version: 0 });

  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('at').notNullable();
    t.string('event', 64).notNullable();
    t.string('outcome', 16).notNullable();
    t.string('username', 256).nullable();
    t.string('actor', 256).nullable();
    t.string('backend', 32).nullable();
    t.string('client_ip', 64).nullable();
    t.string('user_agent', 512).nullable();
    t.text('details').nullable();
    t.index(['at'], 'audit_events_at_index');
    t.index(['username'], 'audit_events_username_index');
    t.index(['event'], 'audit_events_event_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['audit_events', 'policy_locks', 'server_keys', 'tickets', 'password_history', 'lockout_state', 'accounts']) {
    await knex.schema.dropTableIfExists(table);
  }
}
