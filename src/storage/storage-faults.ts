/**
 * The one classifier of database faults an operator must fix (disk full,
 * read-only storage, I/O errors, a held write lock, a server that is down),
 * as opposed to a bug in a query. The HTTP error handler, the login service
 * and readiness all ask it, so every way in answers 503 with the same reason.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { UnavailableError } from '../shared/errors';

/** What is wrong with the database, in words safe to show to anyone. */
export interface StorageFault {
  kind: 'disk_full' | 'read_only' | 'io_error' | 'busy' | 'cannot_open' | 'shutting_down' | 'unreachable';
  /** A sentence fragment: "the database cannot be written: disk full". */
  reason: string;
}

const REASONS: Record<StorageFault['kind'], string> = {
  disk_full: 'the database cannot be written: disk full',
  read_only: 'the database cannot be written: its storage is read-only',
  io_error: 'the database cannot be read or written: I/O error',
  busy: 'the database is busy: another process holds its write lock',
  cannot_open: 'the database file cannot be opened',
  shutting_down: 'the database cannot be reached: its server is shutting down or starting up',
  unreachable: 'the database cannot be reached',
};

// PostgreSQL SQLSTATEs: 53100 disk_full, 25006 read_only_sql_transaction, 57P01-03 shutdown/starting, 08xxx connection.
const PG_KINDS: Record<string, StorageFault['kind']> = {
  '53100': 'disk_full',
  '25006': 'read_only',
  '58030': 'io_error',
  '57P01': 'shutting_down',
  '57P02': 'shutting_down',
  '57P03': 'shutting_down',
};

const NETWORK_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', 'ESOCKET', 'ELOGIN'];

function kindOf(code: string, name: string, message: string): StorageFault['kind'] | null {
  // better-sqlite3 reports extended codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED...): match the primary code.
  if (code.startsWith('SQLITE_FULL')) return 'disk_full';
  if (code.startsWith('SQLITE_READONLY')) return 'read_only';
  if (code.startsWith('SQLITE_IOERR')) return 'io_error';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (code.startsWith('SQLITE_CANTOPEN')) return 'cannot_open';
  if (PG_KINDS[code]) return PG_KINDS[code];
  if (code.startsWith('08') && code.length === 5) return 'unreachable';
  if (NETWORK_CODES.includes(code) || name === 'KnexTimeoutError') return 'unreachable';
  if (/Unable to acquire a connection|Connection terminated|database is closed|The database connection is not open/i.test(message)) return 'unreachable';
  return null;
}

/** The storage fault behind an error (its own or its `cause`), or null for anything else. */
export function storageFault(error: unknown): StorageFault | null {
  for (let e = error as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++) {
    if (typeof e !== 'object') return null;
    const kind = kindOf(String(e.code ?? ''), String(e.name ?? ''), String(e.message ?? ''));
    if (kind) return { kind, reason: REASONS[kind] };
  }
  return null;
}

/** Driver errors that mean the database cannot serve requests right now (fail closed, answer 503). */
export function isDatabaseDown(error: unknown): boolean {
  return storageFault(error) !== null;
}

/** The error as a dependency failure with a reason safe to show: itself, a storage fault, or null for anything else (a bug). */
export function asUnavailable(error: unknown): UnavailableError | null {
  if (error instanceof UnavailableError) return error;
  const fault = storageFault(error);
  return fault ? new UnavailableError('database', (error as Error).message ?? fault.reason, { cause: error, reason: fault.reason }) : null;
}

/** Why a file cannot be used, in the words of `ls` and friends. */
export const ERRNO_WORDS: Readonly<Record<string, string>> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on device',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory',
  ENOENT: 'no such file or directory',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this host',
};

/** A file the service needs cannot be used; `message` names the file and why ("…/portcullis.sqlite: read-only file system"). */
export class StorageAccessError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
    detail?: string,
  ) {
    super(`${path}: ${ERRNO_WORDS[code] ?? code}${detail ? ` (${detail})` : ''}`);
    this.name = 'StorageAccessError';
  }
}

/**
 * Checks, before SQLite tries (and says only "unable to open database file"),
 * that the database file can be read and written and that its directory takes
 * new files (the -wal and -shm files); creates the directory when missing.
 */
export function ensureSqliteWritable(filename: string): void {
  const dir = path.dirname(filename);
  const code = (error: unknown) => String((error as NodeJS.ErrnoException).code);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new StorageAccessError(filename, code(error), `its directory ${dir} cannot be written`);
  }
  try {
    accessSync(filename, constants.R_OK | constants.W_OK);
  } catch (error) {
    if (code(error) !== 'ENOENT') throw new StorageAccessError(filename, code(error));
  }
}
