import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { MIGRATIONS } from '../../migrations';
import { databaseSchema } from '../../src/config/schema';
import { MIGRATION_CONFIG, knexOptions } from '../../src/storage/db';

async function columns(knex: Knex, table: string): Promise<string[]> {
  return ((await knex.raw(`select name from pragma_table_info('${table}')`)) as { name: string }[]).map((c) => c.name);
}

describe('migrations', () => {
  let knex: Knex;
  beforeEach(() => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-migrations-'));
    knex = knexFactory(knexOptions(databaseSchema.parse({ client: 'sqlite', filename: 'db.sqlite' }), dir, {}).options);
  });
  afterEach(() => knex.destroy());

  it('006 adds the session key of API tokens and takes it away again, keeping the tokens', async () => {
    for (const { name, migration } of MIGRATIONS) if (name < '006') await migration.up(knex);
    await knex('accounts').insert({ id: 1, username: 'root', username_key: 'root', role: 'admin', enabled: true, source: 'internal', created_at: 1, updated_at: 1 });
    await knex('api_tokens').insert({ id: 'tok_a', token_hash: 'h'.repeat(64), account_id: 1, username: 'root', scope: 'full', created_at: 1, expires_at: 2 });
    const tokenSessions = MIGRATIONS.find((m) => m.name === '006_token_sessions')!.migration;
    await tokenSessions.up(knex);
    expect(await columns(knex, 'api_tokens')).toContain('tgt_key');
    expect(await knex('api_tokens').select('id', 'tgt_key')).toEqual([{ id: 'tok_a', tgt_key: null }]);
    await tokenSessions.down!(knex);
    expect(await columns(knex, 'api_tokens')).not.toContain('tgt_key');
    expect(await knex('api_tokens').pluck('id')).toEqual(['tok_a']);
  });

  it('all of them go down to an empty database and up again', async () => {
    await knex.migrate.latest(MIGRATION_CONFIG);
    const [, pending] = (await knex.migrate.list(MIGRATION_CONFIG)) as [unknown[], unknown[]];
    expect(pending).toEqual([]);
    await knex.migrate.rollback(MIGRATION_CONFIG, true);
    const tables = async () => (await knex('sqlite_master').where({ type: 'table' }).whereNot('name', 'like', 'knex_%').whereNot('name', 'like', 'sqlite_%').pluck('name')).sort();
    expect(await tables()).toEqual([]);
    await knex.migrate.latest(MIGRATION_CONFIG);
    expect(await tables()).toEqual(expect.arrayContaining(['accounts', 'api_tokens', 'tickets', 'cas_session_services']));
    expect(await columns(knex, 'api_tokens')).toContain('tgt_key');
  });
});
