import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Config } from '../config/schema';
import { readSecretFile } from '../config/load';
import { MIGRATIONS } from '../../migrations';
import { ensureSqliteWritable } from './storage-faults';

export type Dialect = Config['database']['client'];

export interface Database {
  knex: Knex;
  dialect: Dialect;
  /** Human-readable target for startup output, without credentials. */
  description: string;
}

// PostgreSQL returns bigint (int8) as strings; our bigints are epoch milliseconds, well inside 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));

function databasePassword(db: Config['database'], env: NodeJS.ProcessEnv): string | undefined {
  if (env.PORTCULLIS_DATABASE_PASSWORD) return env.PORTCULLIS_DATABASE_PASSWORD;
  if (db.passwordFile) return readSecretFile(db.passwordFile);
  return undefined;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

interface SqliteConnection {
  pragma(source: string): unknown;
  prepare(source: string): unknown;
}

/**
 * knex prepares every SQLite statement anew (a large share of each query's
 * cost). The statements a repository issues are few and fixed, so the
 * connection keeps them; knex runs each one to completion synchronously, so a
 * cached statement is never in use twice at once.
 */
function cachePreparedStatements(conn: SqliteConnection): void {
  const prepare = conn.prepare.bind(conn);
  const statements = new Map<string, unknown>();
  conn.prepare = (source: string) => {
    let statement = statements.get(source);
    if (statement === undefined) {
      statement = prepare(source);
      // Bounded: ad-hoc SQL (migrations, batch inserts of varying size) must not grow it forever.
      if (statements.size < 1000) statements.set(source, statement);
    }
    return statement;
  };
}

/**
 * Deletes the rows a query selects and returns them, in one statement:
 * RETURNING on SQLite (which knex's builder does not emit there) and
 * PostgreSQL, OUTPUT deleted.* on SQL Server.
 */
export async function deleteReturning<Row>(query: Knex.QueryBuilder): Promise<Row[]> {
  if (knexClient(query) === 'better-sqlite3') {
    const { sql, bindings } = query.del().toSQL();
    return (await query.client.raw(`${sql} returning *`, bindings)) as Row[];
  }
  return (await query.del().returning('*')) as unknown as Row[];
}

/** The knex driver behind a knex instance or query ('better-sqlite3', 'pg', 'mssql'), for the few statements written per dialect. */
export function knexClient(db: Knex | Knex.QueryBuilder): unknown {
  return (db.client as { config: { client: unknown } }).config.client;
}

// knex prints pool errors with their stack to stdout; the caller gets the same error and reports it.
const QUIET = () => undefined;
const KNEX_LOG = { warn: QUIET, error: QUIET, deprecate: QUIET, debug: QUIET };

/** The file of an embedded SQLite database, or null (in memory, or another database). */
export function sqliteDatabasePath(db: Config['database'], dataDir: string): string | null {
  if (db.client !== 'sqlite' || db.filename === ':memory:') return null;
  return path.resolve(dataDir, db.filename);
}

type DatabaseOptions = { options: Knex.Config; description: string };

/** The knex options for a config; exported so tests can compile SQL for a dialect offline. */
export function knexOptions(db: Config['database'], dataDir: string, env: NodeJS.ProcessEnv = process.env): DatabaseOptions {
  const password = databasePassword(db, env);
  if (db.client === 'sqlite') return sqliteOptions(db, dataDir);
  if (db.client === 'postgres') return postgresOptions(db, password);
  return mssqlOptions(db, password);
}

function sqliteOptions(db: Config['database'], dataDir: string): DatabaseOptions {
  const filename = sqliteDatabasePath(db, dataDir) ?? ':memory:';
  if (filename !== ':memory:') ensureSqliteWritable(filename);
  return {
    description: `sqlite ${filename}`,
    options: {
      client: 'better-sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      // One connection: SQLite serializes writers anyway, and a single
      // connection makes every transaction atomic with respect to the others.
      pool: {
        min: 1,
        max: 1,
        afterCreate: (conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) => {
          conn.pragma('journal_mode = WAL');
          conn.pragma('synchronous = NORMAL');
          conn.pragma('foreign_keys = ON');
          conn.pragma('busy_timeout = 5000');
          // Ticket lookups by random hash keys touch random pages; with SQLite's 2 MiB default a
          // registry of a million tickets reads from the OS on every hit (bench/sso.ts: 1M vs 10k).
          conn.pragma(`cache_size = -${db.sqliteCacheMiB * 1024}`);
          cachePreparedStatements(conn);
          done(null, conn);
        },
      },
    },
  };
}

function postgresOptions(db: Config['database'], password: string | undefined): DatabaseOptions {
  const connection: Knex.PgConnectionConfig = db.url ? { connectionString: db.url } : { host: db.host, port: db.port, database: db.database, user: db.user };
  if (password !== undefined) connection.password = password;
  if (db.encrypt) connection.ssl = { rejectUnauthorized: !db.trustServerCertificate };
  return {
    description: `postgres ${db.url ? redactUrl(db.url) : `${db.host ?? 'localhost'}:${db.port ?? 5432}/${db.database ?? ''}`}`,
    options: { client: 'pg', connection, pool: { min: db.poolMin, max: db.poolMax } },
  };
}

function mssqlOptions(db: Config['database'], password: string | undefined): DatabaseOptions {
  const mssqlConnection: Knex.MsSqlConnectionConfigBase & { options: { encrypt: boolean; trustServerCertificate: boolean } } = {
    server: db.host ?? 'localhost',
    port: db.port ?? 1433,
    database: db.database ?? 'portcullis',
    userName: db.user ?? 'portcullis',
    password: password ?? '',
    options: { encrypt: db.encrypt, trustServerCertificate: db.trustServerCertificate },
  };
  if (db.url) {
    const u = new URL(db.url.replace(/^sqlserver:/, 'mssql:'));
    mssqlConnection.server = u.hostname;
    if (u.port) mssqlConnection.port = Number(u.port);
    if (u.pathname.length > 1) mssqlConnection.database = decodeURIComponent(u.pathname.slice(1));
    if (u.username) mssqlConnection.userName = decodeURIComponent(u.username);
    if (u.password && password === undefined) mssqlConnection.password = decodeURIComponent(u.password);
  }
  return {
    description: `mssql ${mssqlConnection.server}:${mssqlConnection.port}/${mssqlConnection.database}`,
    options: { client: 'mssql', connection: mssqlConnection, pool: { min: db.poolMin, max: db.poolMax } },
  };
}

export function openDatabase(db: Config['database'], dataDir: string, env: NodeJS.ProcessEnv = process.env): Database {
  const { options, description } = knexOptions(db, dataDir, env);
  return { knex: knexFactory({ log: KNEX_LOG, ...options }), dialect: db.client, description };
}

const migrationSource: Knex.MigrationSource<{ name: string; migration: Knex.Migration }> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m.migration,
};

export const MIGRATION_CONFIG: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/**
 * Errors of two instances starting at once on a fresh database: both create knex's
 * bookkeeping tables (PostgreSQL 42P07 / 23505 on pg_type, SQL Server 2714), or one holds the
 * migration lock (knex MigrationLocked). Trying again after the other finished succeeds.
 */
function isConcurrentMigration(error: unknown): boolean {
  const e = error as { name?: string; code?: string; number?: number };
  return e?.name === 'MigrationLocked' || e?.code === '42P07' || e?.number === 2714 || (isUniqueViolation(error) && /pg_type|knex_migrations/.test(String((error as Error).message)));
}

/** Applies pending migrations; returns the names applied. Safe when several instances start together. */
export async function migrateToLatest(knex: Knex): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const [, applied] = (await knex.migrate.latest(MIGRATION_CONFIG)) as [number, string[]];
      return applied;
    } catch (error) {
      if (attempt >= 20 || !isConcurrentMigration(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * Math.min(attempt, 4)));
    }
  }
}

/** True when every known migration has been applied (used by readiness checks). */
export async function migrationsCurrent(knex: Knex): Promise<boolean> {
  const [, pending] = (await knex.migrate.list(MIGRATION_CONFIG)) as [unknown[], unknown[]];
  return pending.length === 0;
}

/** Errors from a unique index, whichever driver raised them. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string | number; number?: number; message?: string };
  return (
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    e?.code === '23505' ||
    e?.number === 2627 ||
    e?.number === 2601
  );
}

/** Affected-row count from update()/del(), which all three drivers return as a number. */
export function affected(result: number | unknown[]): number {
  return typeof result === 'number' ? result : result.length;
}
