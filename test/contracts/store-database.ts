import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { databaseSchema } from '../../src/config/schema';
import { migrateToLatest, openDatabase } from '../../src/storage/db';
import { type TestDatabase, createPostgresTestDatabase, postgresTestServer, testDatabaseKind } from '../support/pg-test-databases';

/**
 * Fresh, migrated databases for the store contracts, of the kind
 * PORTCULLIS_TEST_DB selects (SQLite by default, PostgreSQL in the test
 * command's third pass). Migrating takes most of a second on PostgreSQL, so
 * a suite migrates one template database and each test gets a copy of it
 * (CREATE DATABASE … TEMPLATE; for SQLite, a copy of the file: a file, not
 * `:memory:`, so that two connection pools can share it).
 */
export class TemplateDatabase {
  private constructor(
    private readonly dir: string,
    private readonly template: TestDatabase | null,
  ) {}

  static async create(): Promise<TemplateDatabase> {
    const kind = testDatabaseKind(process.env);
    if (kind !== 'sqlite' && kind !== 'postgres') throw new Error(`the store contracts run on SQLite and PostgreSQL, not ${kind}`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-contract-'));
    const template = kind === 'postgres' ? await createPostgresTestDatabase() : null;
    const knex = openDatabase(databaseSchema.parse(template ? template.config : { filename: 'template.sqlite' }), dir, {}).knex;
    try {
      await migrateToLatest(knex);
    } finally {
      await knex.destroy();
    }
    return new TemplateDatabase(dir, template);
  }

  /** A new database with the template's content; `connect()` opens another pool on it, as another instance would. */
  async copy(): Promise<{ connect(): Knex; close(): Promise<void> }> {
    const copy = this.template ? await createPostgresTestDatabase(postgresTestServer(), this.template.name) : null;
    const filename = `copy-${Math.random().toString(36).slice(2)}.sqlite`;
    if (!copy) copyFileSync(path.join(this.dir, 'template.sqlite'), path.join(this.dir, filename));
    const config = databaseSchema.parse(copy ? copy.config : { filename });
    const pools: Knex[] = [];
    return {
      connect: () => {
        const pool = openDatabase(config, this.dir, {}).knex;
        pools.push(pool);
        return pool;
      },
      async close() {
        await Promise.all(pools.map((pool) => pool.destroy()));
        await copy?.drop();
      },
    };
  }

  async drop(): Promise<void> {
    await this.template?.drop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Two stores on one database, as two instances would hold them. */
export interface StorePair<Store> {
  store: Store;
  /** The same database through another connection pool. */
  other: Store;
}

/** How a contract gets stores on a fresh database for each test. */
export interface StoreFactory<Store> {
  /** Once before the suite's tests. */
  setUp(): Promise<void>;
  create(): Promise<StorePair<Store> & { close(): Promise<void> }>;
  /** Once after them. */
  tearDown(): Promise<void>;
}

/** A StoreFactory for a store whose constructor takes a knex; `seed` adds rows the contract presumes (accounts a table refers to). */
export function knexStoreFactory<Store>(build: (knex: Knex) => Store, seed?: (knex: Knex) => Promise<void>): StoreFactory<Store> {
  let template: TemplateDatabase | null = null;
  return {
    async setUp() {
      template = await TemplateDatabase.create();
    },
    async create() {
      if (!template) throw new Error('setUp() first');
      const db = await template.copy();
      const knex = db.connect();
      await seed?.(knex);
      return { store: build(knex), other: build(db.connect()), close: () => db.close() };
    },
    async tearDown() {
      await template?.drop();
    },
  };
}

/** Registers the hooks that give every test of the calling `describe` its own fresh stores; returns the current pair. */
export function freshStores<Store>(factory: StoreFactory<Store>): () => StorePair<Store> {
  let current: (StorePair<Store> & { close(): Promise<void> }) | null = null;
  beforeAll(() => factory.setUp());
  afterAll(() => factory.tearDown());
  beforeEach(async () => {
    current = await factory.create();
  });
  afterEach(async () => {
    await current?.close();
    current = null;
  });
  return () => {
    if (!current) throw new Error('stores are only available inside a test');
    return current;
  };
}
