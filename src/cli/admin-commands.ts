import path from 'node:path';
import { type LoadOptions, loadConfig } from '../config/load';
import { LivePolicySource } from '../config/live-policy';
import { type ImportReport, importLegacyFile } from '../admin/legacy-import';
import { backupDatabase, restoreDatabase, sqliteFile } from '../admin/backup';
import { migrateToLatest, openDatabase } from '../storage/db';
import { InputError } from '../shared/errors';
import { createLogger } from '../shared/logger';
import { systemClock } from '../shared/clock';

export const ADMIN_USAGE = `  import-legacy FILE [--dry-run] [--skip-invalid] [--verbose]
                                          import NEC CAS accounts from CSV (columns: username, md5,
                                          display_name, email, role, enabled; header in any order)
  backup FILE                             copy the SQLite database to FILE (online, consistent)
  restore FILE                            replace the SQLite database with FILE (service stopped)`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether progress may be drawn (stderr is a terminal). */
  interactive: boolean;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
};

function singleFile(command: string, args: string[], flags: string[]): { file: string; flags: Set<string> } {
  const given = new Set<string>();
  const positional: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('--')) {
      if (!flags.includes(arg)) throw new InputError(`${command}: unknown option ${arg} (known: ${flags.join(', ') || 'none'})`);
      given.add(arg);
    } else positional.push(arg);
  }
  if (positional.length !== 1) throw new InputError(`usage: portcullis ${command} FILE${flags.length ? ` [${flags.join('] [')}]` : ''}`);
  return { file: path.resolve(positional[0]), flags: given };
}

/** A progress bar on a terminal; nothing otherwise (logs and pipes stay clean). */
function progressBar(io: CliIo): { update(done: number, total: number): void; finish(): void } {
  const started = Date.now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (!io.interactive || (now - lastDraw < 100 && done < total)) return;
      lastDraw = now;
      drawn = true;
      const width = 30;
      const filled = total === 0 ? width : Math.round((done / total) * width);
      const rate = Math.round(done / Math.max((now - started) / 1000, 0.001));
      io.err(`\rimporting [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} rows, ${rate} rows/s `);
    },
    finish() {
      if (drawn) io.err('\n');
    },
  };
}

const LIST_LIMIT = 20;

export function formatImportReport(report: ImportReport, maxAdministrators: number, verbose: boolean): string {
  const lines: string[] = [];
  const list = <T>(items: T[], show: (item: T) => string) => {
    const shown = verbose ? items : items.slice(0, LIST_LIMIT);
    for (const item of shown) lines.push(`  ${show(item)}`);
    if (shown.length < items.length) lines.push(`  ... and ${items.length - shown.length} more (--verbose lists all)`);
  };
  const rate = report.elapsedMs > 0 ? Math.round((report.rows / report.elapsedMs) * 1000) : report.rows;
  if (report.invalid.length > 0) {
    lines.push(`invalid rows: ${report.invalid.length}`);
    list(report.invalid, (p) => `line ${p.line}: ${p.message}`);
  }
  const nothing = report.dryRun || (report.invalid.length > 0 && report.imported === 0 && report.skipped.length === 0);
  if (nothing) {
    lines.push(report.dryRun ? `dry run: ${report.rows} rows read, nothing written` : 'nothing imported: fix the invalid rows, or pass --skip-invalid to import the others');
    return `${lines.join('\n')}\n`;
  }
  lines.push(`imported: ${report.imported}`);
  lines.push(`skipped (already exist): ${report.skipped.length}`);
  list(report.skipped, (s) => `line ${s.line} "${s.username}": ${s.reason}`);
  lines.push(`would exceed the administrator limit (MaxAdministratorCount ${maxAdministrators}), not imported: ${report.overAdministratorLimit.length}`);
  list(report.overAdministratorLimit, (s) => `line ${s.line} "${s.username}"`);
  lines.push(`${report.rows} rows in ${(report.elapsedMs / 1000).toFixed(1)} s (${rate} rows/s)`);
  return `${lines.join('\n')}\n`;
}

async function importLegacy(args: string[], io: CliIo, options: LoadOptions): Promise<number> {
  const { file, flags } = singleFile('import-legacy', args, ['--dry-run', '--skip-invalid', '--verbose']);
  const loaded = loadConfig(options);
  const db = openDatabase(loaded.config.database, loaded.dataDir, options.env);
  try {
    await migrateToLatest(db.knex);
    const policy = new LivePolicySource({ configDir: loaded.configDir, dataDir: loaded.dataDir, env: options.env }, loaded, createLogger('warn'));
    const bar = progressBar(io);
    const report = await importLegacyFile({ knex: db.knex, policy, clock: systemClock }, file, {
      dryRun: flags.has('--dry-run'),
      skipInvalid: flags.has('--skip-invalid'),
      fileLabel: path.basename(file),
      onProgress: (done, total) => bar.update(done, total),
    });
    bar.finish();
    io.out(formatImportReport(report, policy.get().administrators.maxAdministratorCount, flags.has('--verbose')));
    return report.invalid.length > 0 && !flags.has('--skip-invalid') ? 1 : 0;
  } finally {
    await db.knex.destroy();
  }
}

/**
 * `import-legacy`, `backup` and `restore`. Returns the exit code; usage and
 * input problems throw InputError (main prints the message).
 */
export async function adminCommand(command: string, args: string[], io: CliIo = processIo, options: LoadOptions = {}): Promise<number> {
  if (command === 'import-legacy') return importLegacy(args, io, options);
  if (command === 'backup') {
    const { file } = singleFile('backup', args, []);
    const result = backupDatabase(sqliteFile(loadConfig(options)), file);
    io.out(`backup written: ${result.file} (${result.bytes} bytes, ${result.accounts} accounts, schema ${result.migrations.at(-1) ?? 'empty'})\n`);
    return 0;
  }
  if (command === 'restore') {
    const { file } = singleFile('restore', args, []);
    const result = restoreDatabase(file, sqliteFile(loadConfig(options)));
    io.out(`restored ${result.database} from ${file} (${result.accounts} accounts, schema ${result.migrations.at(-1) ?? 'empty'})\n`);
    if (result.previous) io.out(`the replaced database was kept as ${result.previous}\n`);
    io.out('newer migrations, if any, are applied when Portcullis starts (or run: portcullis migrate)\n');
    return 0;
  }
  throw new InputError(`unknown command "${command}"`);
}
