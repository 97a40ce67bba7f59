import path from 'node:path';
import type { ImportReport } from '../jobs/legacy-import';
import type { CliIo, Command } from './command-table';
import { type CliContext, requireExistingDatabase } from './context';

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
  const refused = report.invalid.length > 0 && report.imported === 0 && report.skipped.length === 0 && report.overAdministratorLimit.length === 0;
  if (report.dryRun) lines.push(`dry run: ${report.rows} rows read, nothing written${refused ? '' : '; the import would give:'}`);
  if (refused) {
    lines.push(`nothing ${report.dryRun ? 'would be ' : ''}imported: fix the invalid rows, or pass --skip-invalid to import the others`);
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

/** Exit code of an import: 1 when any row was (or would be) refused, so scripts notice. */
export function importExitCode(report: ImportReport, skipInvalid: boolean): number {
  return (report.invalid.length > 0 && !skipInvalid) || report.overAdministratorLimit.length > 0 ? 1 : 0;
}

const FILE_ARG = 'FILE';

/** `import-legacy`, `backup` and `restore`. */
export const ADMIN_COMMANDS: Command<CliContext>[] = [
  {
    name: 'import-legacy',
    args: FILE_ARG,
    summary: 'import NEC CAS accounts from CSV (see the README: Legacy import)',
    details: 'columns: username, md5, display_name, email, role, enabled (header in any order)\nexits 1 when any row is refused (invalid, or over the administrator limit); the summary lists them',
    options: {
      'dry-run': { type: 'boolean', help: 'check the file and predict the outcome; write nothing' },
      'skip-invalid': { type: 'boolean', help: 'import the valid rows even when others are invalid' },
      verbose: { type: 'boolean', help: 'list every skipped or refused row' },
    },
    async run({ positionals: [given], flag }, ctx) {
      const file = path.resolve(given);
      const [{ loadConfig }, { LivePolicySource }, { importLegacyFile }, { migrateToLatest, openDatabase }, { createLogger }, { systemClock }, { KnexLegacyImportStore }] = await Promise.all([
        import('../config/load'),
        import('../config/live-policy'),
        import('../jobs/legacy-import'),
        import('../storage/db'),
        import('../shared/logger'),
        import('../shared/clock'),
        import('../storage/legacy-import-store'),
      ]);
      const loaded = loadConfig(ctx.load);
      await requireExistingDatabase(loaded);
      const db = openDatabase(loaded.config.database, loaded.dataDir, ctx.load.env);
      try {
        await migrateToLatest(db.knex);
        const policy = new LivePolicySource({ configDir: loaded.configDir, dataDir: loaded.dataDir, env: ctx.load.env }, loaded, createLogger('warn'));
        const bar = progressBar(ctx.io);
        const report = await importLegacyFile({ store: new KnexLegacyImportStore(db.knex), policy, clock: systemClock }, file, {
          dryRun: flag('dry-run'),
          skipInvalid: flag('skip-invalid'),
          fileLabel: path.basename(file),
          onProgress: (done, total) => bar.update(done, total),
        });
        bar.finish();
        ctx.io.out(formatImportReport(report, policy.get().administrators.maxAdministratorCount, flag('verbose')));
        return importExitCode(report, flag('skip-invalid'));
      } finally {
        await db.knex.destroy();
      }
    },
  },
  {
    name: 'backup',
    args: FILE_ARG,
    summary: 'copy the SQLite database to FILE (online, consistent; FILE must be new, its directory must exist)',
    async run({ positionals: [file] }, ctx) {
      const [{ loadConfig }, { backupDatabase, sqliteFile }] = await Promise.all([import('../config/load'), import('../storage/sqlite-backup')]);
      const loaded = loadConfig(ctx.load);
      const database = sqliteFile(loaded);
      await requireExistingDatabase(loaded);
      const result = backupDatabase(database, file);
      ctx.io.out(`backup written: ${result.file} (${result.bytes} bytes, ${result.accounts} accounts, schema ${result.migrations.at(-1) ?? 'empty'})\n`);
    },
  },
  {
    name: 'restore',
    args: FILE_ARG,
    summary: 'replace the SQLite database with FILE (every instance stopped)',
    async run({ positionals: [file] }, ctx) {
      const [{ loadConfig }, { restoreDatabase, sqliteFile }] = await Promise.all([import('../config/load'), import('../storage/sqlite-backup')]);
      const result = restoreDatabase(file, sqliteFile(loadConfig(ctx.load)));
      ctx.io.out(`restored ${result.database} from ${file} (${result.accounts} accounts, schema ${result.migrations.at(-1) ?? 'empty'})\n`);
      if (result.previous) ctx.io.out(`the replaced database was kept as ${result.previous}\n`);
      ctx.io.out('newer migrations, if any, are applied when Portcullis starts (or run: portcullis migrate)\n');
    },
  },
];
