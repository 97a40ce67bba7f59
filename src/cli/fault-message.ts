import { ERRNO_WORDS, StorageAccessError, storageFault } from '../storage/storage-faults';

/**
 * One line for a fault the operator must fix (a file that cannot be used, a
 * database that cannot be written, a port taken), or null when the error is
 * not one of those. Never a stack trace.
 */
export function faultMessage(error: unknown): string | null {
  if (error instanceof StorageAccessError) return error.message;
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (!e || typeof e !== 'object') return null;
  const words = typeof e.code === 'string' ? ERRNO_WORDS[e.code] : undefined;
  if (words && e.syscall === 'listen') return `cannot listen on ${e.address ?? ''}:${e.port ?? ''}: ${words}`;
  if (words && typeof e.path === 'string') return `${e.path}: ${words}`;
  const fault = storageFault(error);
  return fault ? `${fault.reason} (${e.code ?? e.message})` : null;
}
