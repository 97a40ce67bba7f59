import { chmodSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { LoadedConfig } from '../config/load';
import { InputError } from '../shared/errors';
import { MIGRATIONS } from '../../migrations';
import { sqliteDatabasePath } from './db';

/**
 * Backup and restore of the embedded SQLite database (file-level SQL: VACUUM INTO, integrity_check), run by the CLI.
 *
 * Backup is online: `VACUUM INTO` copies the database inside one read
 * transaction, so the copy is consistent (a snapshot) while the service keeps
 * serving and writing (WAL mode lets readers and the writer proceed together).
 *
 * Restore replaces the database file, so it refuses while any process has
 * the database open in WAL mode (every running Portcullis does): switching
 * the journal mode needs exclusive access, and SQLite says "busy" otherwise.
 * While restoring it holds an exclusive lock, keeps the replaced file as
 * `<file>.before-restore-<time>`, and moves the restored copy in with a rename.
 */

export interface BackupResult {
  file: string;
  bytes: number;
  accounts: number;
  migrations: string[];
}

export interface RestoreResult {
  database: string;
  /** Where the replaced database was kept, or null when there was none. */
  previous: string | null;
  accounts: number;
  migrations: string[];
}

/** The SQLite file of a loaded config; other databases have their own tools. */
export function sqliteFile(loaded: LoadedConfig): string {
  const db = loaded.config.database;
  if (db.client !== 'sqlite') {
    throw new InputError(
      `backup and restore handle the embedded SQLite database; this configuration uses ${db.client}. ` +
        (db.client === 'postgres' ? 'Use pg_dump and pg_restore.' : 'Use BACKUP DATABASE and RESTORE DATABASE.'),
    );
  }
  const file = sqliteDatabasePath(db, loaded.dataDir);
  if (file === null) throw new InputError('The database is in memory; there is nothing to back up.');
  return file;
}

/** Checks a database file is an intact Portcullis database this version can run; returns what it holds. */
export function inspectDatabase(file: string): { accounts: number; migrations: string[] } {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new InputError(`${file} cannot be opened as an SQLite database: ${(error as Error).message}`);
  }
  try {
    let integrity: unknown;
    try {
      integrity = db.pragma('integrity_check', { simple: true });
    } catch (error) {
      throw new InputError(`${file} is not an SQLite database: ${(error as Error).message}`);
    }
    if (integrity !== 'ok') throw new InputError(`${file} failed the SQLite integrity check: ${String(integrity)}`);
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
    if (!tables.has('accounts') || !tables.has('knex_migrations')) throw new InputError(`${file} is not a Portcullis database (no accounts or knex_migrations table).`);
    const migrations = (db.prepare('SELECT name FROM knex_migrations ORDER BY id').all() as { name: string }[]).map((m) => m.name);
    const known = new Set(MIGRATIONS.map((m) => m.name));
    const unknown = migrations.filter((m) => !known.has(m));
    if (unknown.length > 0) throw new InputError(`${file} was written by a newer Portcullis (unknown migrations: ${unknown.join(', ')}); restore it with that version.`);
    const { n } = db.prepare('SELECT COUNT(*) AS n FROM accounts').get() as { n: number };
    return { accounts: n, migrations };
  } finally {
    db.close();
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** Copies the live database to `target` (which must not exist), consistently, while the service runs. */
export function backupDatabase(source: string, target: string): BackupResult {
  if (!existsSync(source)) throw new InputError(`There is no database at ${source}.`);
  const file = path.resolve(target);
  if (existsSync(file)) throw new InputError(`${file} already exists; choose a new file name (backups are never overwritten).`);
  // A mistyped directory must not silently become a new one (where nobody looks for backups).
  if (!existsSync(path.dirname(file))) throw new InputError(`There is no directory ${path.dirname(file)}; create it first (backup does not create directories).`);
  const partial = `${file}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  const db = new Database(source, { fileMustExist: true });
  try {
    // Wait for a writer rather than failing: the service may be mid-transaction.
    db.pragma('busy_timeout = 10000');
    db.prepare('VACUUM INTO ?').run(partial);
  } finally {
    db.close();
  }
  try {
    // The copy holds password hashes: owner-only, like the database itself.
    chmodSync(partial, 0o600);
    const contents = inspectDatabase(partial);
    // link + unlink: never replaces a file that appeared meanwhile.
    linkSync(partial, file);
    return { file, bytes: statSync(file).size, ...contents };
  } finally {
    rmSync(partial, { force: true });
  }
}

/**
 * Replaces the database at `target` with the backup `source`. Refuses when
 * the backup is damaged or from a newer version, and when the database is in
 * use (stop Portcullis first; in a cluster on a shared file, all instances).
 */
export function restoreDatabase(source: string, target: string, now: Date = new Date()): RestoreResult {
  const backup = path.resolve(source);
  if (!existsSync(backup)) throw new InputError(`There is no backup at ${backup}.`);
  const contents = inspectDatabase(backup);
  const database = path.resolve(target);
  mkdirSync(path.dirname(database), { recursive: true, mode: 0o700 });
  const incoming = `${database}.restore-${process.pid}`;
  rmSync(incoming, { force: true });
  const copy = new Database(backup, { readonly: true, fileMustExist: true });
  try {
    copy.prepare('VACUUM INTO ?').run(incoming);
  } finally {
    copy.close();
  }
  chmodSync(incoming, 0o600);
  if (!existsSync(database)) {
    // Journal files without their database are leftovers that would be applied to the new one.
    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${database}${suffix}`, { force: true });
    renameSync(incoming, database);
    return { database, previous: null, ...contents };
  }
  const lock = new Database(database, { fileMustExist: true });
  try {
    lock.pragma('busy_timeout = 0');
    try {
      // Leaving WAL mode needs every other connection gone: the "is it running?" test SQLite itself answers.
      const mode = lock.pragma('journal_mode = DELETE', { simple: true });
      if (mode !== 'delete') throw Object.assign(new Error(`journal mode stayed ${String(mode)}`), { code: 'SQLITE_BUSY' });
      lock.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      if (isBusy(error)) {
        throw new InputError(`${database} is in use (is Portcullis running?). Stop every instance that uses it, then restore again.`);
      }
      throw error;
    }
    const previous = `${database}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`;
    renameSync(database, previous);
    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${database}${suffix}`, { force: true });
    renameSync(incoming, database);
    lock.exec('ROLLBACK');
    return { database, previous, ...contents };
  } finally {
    lock.close();
    rmSync(incoming, { force: true });
  }
}
