import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/schema';
import { ConflictError } from '../shared/errors';
import { StorageAccessError, ensureSqliteWritable } from './storage-faults';

export interface DatabaseLock {
  path: string;
  /** The pid of a dead process whose lock was taken over, if any. */
  staleFrom: number | null;
  /** Removes the lock file if it is still ours (idempotent). */
  release(): void;
}

function holderOf(lockPath: string): number | null {
  try {
    const pid = Number(readFileSync(lockPath, 'utf8').split(/\s/, 1)[0]);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isRunning(pid: number): boolean {
  // Our own pid cannot hold it yet: a lock with it was left by an earlier process (a container's pid 1).
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<database file>.lock` for a SQLite database, so that a second
 * `portcullis start` on the same file refuses to run instead of sharing it
 * silently. A lock whose process is gone (kill -9, power loss) is taken over.
 * Returns null for databases that several instances may share (PostgreSQL,
 * SQL Server) and for in-memory SQLite.
 */
export function lockSqliteDatabase(database: Config['database'], dataDir: string): DatabaseLock | null {
  if (database.client !== 'sqlite' || database.filename === ':memory:') return null;
  const file = path.resolve(dataDir, database.filename);
  ensureSqliteWritable(file);
  const lockPath = `${file}.lock`;
  const content = `${process.pid} ${os.hostname()}\n`;
  let staleFrom: number | null = null;
  for (;;) {
    try {
      writeFileSync(lockPath, content, { flag: 'wx', mode: 0o644 });
      break;
    } catch (error) {
      const code = String((error as NodeJS.ErrnoException).code);
      if (code !== 'EEXIST') throw new StorageAccessError(lockPath, code);
    }
    const holder = holderOf(lockPath);
    if (holder !== null && isRunning(holder)) {
      throw new ConflictError(
        'DATABASE_LOCKED',
        `${file} is in use by another Portcullis (pid ${holder}, lock file ${lockPath}): stop that one first; if pid ${holder} is not Portcullis, delete the lock file`,
      );
    }
    staleFrom = holder;
    try {
      unlinkSync(lockPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new StorageAccessError(lockPath, String((error as NodeJS.ErrnoException).code));
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      if (readFileSync(lockPath, 'utf8') === content) unlinkSync(lockPath);
    } catch {
      // Already gone: nothing to release.
    }
  };
  // process.exit() skips stop(): the lock goes anyway.
  process.on('exit', release);
  return { path: lockPath, staleFrom, release };
}
