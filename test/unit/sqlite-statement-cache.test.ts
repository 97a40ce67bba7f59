import Database from 'better-sqlite3';
import { databaseSchema } from '../../src/config/schema';
import { openDatabase } from '../../src/storage/db';

/**
 * src/storage/db.ts keeps SQLite's prepared statements per connection. It
 * relies on knex's better-sqlite3 dialect preparing every query through the
 * connection's own `prepare`: if a knex release stops doing that, the cache is
 * dead code, and if the cache breaks, every query is prepared anew. Either
 * way this test fails.
 */
describe('SQLite prepared-statement cache (knex internals it relies on)', () => {
  afterEach(() => jest.restoreAllMocks());

  it('prepares a repeated query once per connection, through the connection knex was given', async () => {
    const prepare = jest.spyOn(Database.prototype, 'prepare');
    const db = openDatabase(databaseSchema.parse({ client: 'sqlite', filename: ':memory:' }), '/tmp');
    try {
      const sql = 'select ? + 1 as answer';
      for (let i = 0; i < 5; i++) expect(await db.knex.raw(sql, [i])).toEqual([{ answer: i + 1 }]);
      expect(prepare.mock.calls.filter(([source]) => source === sql)).toHaveLength(1);
    } finally {
      await db.knex.destroy();
    }
  });
});
