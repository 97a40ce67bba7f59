import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../shared/logger';
import { type BreachedFilter, FilterFileError, loadFilter } from './breached-filter';

/** Where `import-breached` writes and the service reads when `password.breachedFilterFile` is not set. */
export const DEFAULT_FILTER_FILE = 'breached-passwords.filter';

export function breachedFilterPath(dataDir: string, configured: string | undefined): { file: string; required: boolean } {
  return { file: path.resolve(dataDir, configured ?? DEFAULT_FILTER_FILE), required: configured !== undefined };
}

/** What `config check` and GET /api/v1/policy show about the filter in force. */
export interface FilterInfo {
  file: string;
  source: string;
  createdAt: string;
  entries: number;
  fpRate: number;
  sizeBytes: number;
  bitsPerEntry: number;
}

/**
 * The breached-password filter this process uses. Loaded once at start (a file
 * that exists but cannot be used is an error naming it, never a silent skip);
 * SIGHUP re-reads it, and a bad new file leaves the last good filter in force.
 */
export class BreachedFilterSource {
  private filter: BreachedFilter | null = null;

  constructor(
    readonly file: string,
    private readonly required: boolean,
    private readonly logger?: Logger,
  ) {}

  /** Throws FilterFileError naming the file. No file at the default path just means no filter yet. */
  async load(): Promise<void> {
    if (!this.required && !existsSync(this.file)) {
      this.filter = null;
      return;
    }
    if (!existsSync(this.file)) throw new FilterFileError(this.file, 'does not exist (set by password.breachedFilterFile)');
    this.filter = await loadFilter(this.file);
  }

  async reload(): Promise<boolean> {
    try {
      await this.load();
      this.logger?.info({ event: 'breached_filter_reloaded', file: this.file, entries: this.filter?.header.entries ?? 0 }, 'breached-password filter reloaded');
      return true;
    } catch (error) {
      this.logger?.error({ event: 'breached_filter_reload_failed', file: this.file, err: (error as Error).message }, `${(error as Error).message}; keeping the filter already loaded`);
      return false;
    }
  }

  /** Reloads on SIGHUP (as the config files are). Returns a stop function. */
  watch(): () => void {
    const onHangup = () => void this.reload();
    process.on('SIGHUP', onHangup);
    return () => process.off('SIGHUP', onHangup);
  }

  get(): BreachedFilter | null {
    return this.filter;
  }

  info(): FilterInfo | null {
    const f = this.filter;
    if (!f) return null;
    const { source, createdAt, entries, fpRate } = f.header;
    return { file: this.file, source, createdAt, entries, fpRate, sizeBytes: f.sizeBytes, bitsPerEntry: Math.round(f.bitsPerEntry * 100) / 100 };
  }
}
