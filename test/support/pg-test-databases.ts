import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import os from 'node:os';
import { type ConfigInput, databaseSchema } from '../../src/config/schema';
import { knexOptions } from '../../src/storage/db';

/**
 * Test databases on real servers: a fresh, uniquely named database per test
 * context, dropped again when the context closes. PostgreSQL comes from the
 * throwaway cluster that scripts/test-servers/up.sh starts (described in
 * .test-env/env.json); SQL Server from DATABASE_URL (an account allowed to
 * CREATE DATABASE, e.g. `sa` of the docker-compose `mssql` service).
 */

export type TestDatabaseKind = 'sqlite' | 'postgres' | 'mssql';

/** Which database the integration suite runs on: PORTCULLIS_TEST_DB=sqlite (default) | postgres | mssql. */
export function testDatabaseKind(env: NodeJS.ProcessEnv = process.env): TestDatabaseKind {
  const kind = env.PORTCULLIS_TEST_DB ?? 'sqlite';
  if (kind !== 'sqlite' && kind !== 'postgres' && kind !== 'mssql') {
    throw new Error(`PORTCULLIS_TEST_DB must be sqlite, postgres or mssql, got "${kind}"`);
  }
  return kind;
}

export interface PostgresTestServer {
  /** postgres://app:...@127.0.0.1:55432/authdb — role with CREATEDB. */
  url: string;
  /** Superuser URL, used to drop test databases: only it may end an autovacuum worker busy in one. */
  adminUrl?: string;
}

/** The env.json written by scripts/test-servers/up.sh (PORTCULLIS_TEST_ENV_JSON / _DIR override its place). */
export function testEnvFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PORTCULLIS_TEST_ENV_JSON) return env.PORTCULLIS_TEST_ENV_JSON;
  const dir = env.PORTCULLIS_TEST_ENV_DIR ?? path.resolve(__dirname, '..', '..', '.test-env');
  return path.join(dir, 'env.json');
}

/** The PostgreSQL test server; throws (never skips) when the test servers are not running. */
export function postgresTestServer(env: NodeJS.ProcessEnv = process.env): PostgresTestServer {
  const file = testEnvFile(env);
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: start the test servers first (sudo scripts/test-servers/up.sh)`);
  }
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { postgres?: { url?: unknown; adminUrl?: unknown } };
  const url = parsed.postgres?.url;
  if (typeof url !== 'string') throw new Error(`${file} has no postgres.url: re-run scripts/test-servers/up.sh`);
  const adminUrl = parsed.postgres?.adminUrl;
  return { url, ...(typeof adminUrl === 'string' ? { adminUrl } : {}) };
}

/** A throwaway database that exists until `drop()`. */
export interface TestDatabase {
  kind: 'postgres' | 'mssql';
  /** Connection URL of the new database. */
  url: string;
  name: string;
  /** `database` config section pointing at it. */
  config: NonNullable<ConfigInput['database']>;
  drop(): Promise<void>;
}

function uniqueName(): string {
  return `pc_test_${process.pid}_${randomBytes(5).toString('hex')}`;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** `template`: the name of a database to copy (it must have no open connection), e.g. one already migrated. */
export async function createPostgresTestDatabase(server: PostgresTestServer = postgresTestServer(), template?: string): Promise<TestDatabase> {
  const name = uniqueName();
  const admin = knexFactory({ client: 'pg', connection: { connectionString: server.url }, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  } finally {
    await admin.destroy();
  }
  const url = withDatabase(server.url, name);
  return {
    kind: 'postgres',
    url,
    name,
    config: { client: 'postgres', url, poolMax: 10 },
    async drop() {
      // As the superuser when known: FORCE must also end autovacuum workers (e.g. after a 100,000-row import),
      // which the owning role has no right to terminate.
      const dropper = knexFactory({ client: 'pg', connection: { connectionString: server.adminUrl ?? server.url }, pool: { min: 0, max: 1 } });
      try {
        // FORCE (PostgreSQL 13+): a test that leaked a connection must not leak the database too.
        await dropper.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.destroy();
      }
    },
  };
}

/** A one-connection knex on `database` of the SQL Server in `serverUrl`, built by the production code path. */
function mssqlKnex(serverUrl: string, database: string): Knex {
  const config = databaseSchema.parse({ client: 'mssql', url: withDatabase(serverUrl.replace(/^sqlserver:/, 'mssql:'), database), encrypt: true, trustServerCertificate: true, poolMax: 1 });
  return knexFactory(knexOptions(config, os.tmpdir(), {}).options);
}

export async function createMssqlTestDatabase(env: NodeJS.ProcessEnv = process.env): Promise<TestDatabase> {
  const serverUrl = env.DATABASE_URL;
  if (!serverUrl || !/^(mssql|sqlserver):/.test(serverUrl)) {
    throw new Error('PORTCULLIS_TEST_DB=mssql needs DATABASE_URL=mssql://sa:PASSWORD@127.0.0.1:1433/master (see README, "SQL Server")');
  }
  const name = uniqueName();
  const admin = mssqlKnex(serverUrl, 'master');
  try {
    await admin.raw(`CREATE DATABASE [${name}]`);
    // Row versioning as production SQL Server deployments of Portcullis should run it (README).
    await admin.raw(`ALTER DATABASE [${name}] SET READ_COMMITTED_SNAPSHOT ON`);
  } finally {
    await admin.destroy();
  }
  const url = withDatabase(serverUrl.replace(/^sqlserver:/, 'mssql:'), name);
  return {
    kind: 'mssql',
    url,
    name,
    config: { client: 'mssql', url, encrypt: true, trustServerCertificate: true, poolMax: 10 },
    async drop() {
      const dropper = mssqlKnex(serverUrl, 'master');
      try {
        await dropper.raw(`ALTER DATABASE [${name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE`);
        await dropper.raw(`DROP DATABASE [${name}]`);
      } finally {
        await dropper.destroy();
      }
    },
  };
}

/** A fresh database of the kind PORTCULLIS_TEST_DB selects, or null for the default in-process SQLite. */
export async function createSelectedTestDatabase(env: NodeJS.ProcessEnv = process.env): Promise<TestDatabase | null> {
  const kind = testDatabaseKind(env);
  if (kind === 'postgres') return createPostgresTestDatabase(postgresTestServer(env));
  if (kind === 'mssql') return createMssqlTestDatabase(env);
  return null;
}
