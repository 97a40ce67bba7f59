// src/jobs: one-off jobs run only by the CLI (src/cli/); their SQL is in src/storage/; may import storage/, config/, accounts/, authn/, shared/, never http/, admin/ or a Services bag.
import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { INTERNAL_BACKEND } from '../authn/internal-backend';
import { isLegacyMd5 } from '../authn/password-hasher';
import type { LivePolicySource } from '../config/live-policy';
import type { Role } from '../accounts/account';
import type { AuditEvent } from '../storage/audit-log';
import { isUniqueViolation } from '../storage/db';
import type { ImportedAccount } from '../storage/legacy-import-store';
import type { Clock } from '../shared/clock';
import { InputError } from '../shared/errors';
import { usernameKey, validateNewUsername } from '../shared/username';

/**
 * Import of accounts exported from an NEC CAS database, as CSV (RFC 4180:
 * comma-separated, "double quotes" around fields holding commas, quotes or
 * line breaks, UTF-8, optional BOM). The first line names the columns, in any
 * order; names are matched case-insensitively, ignoring spaces, "_" and "-":
 *
 *   username      (required; also: user, login, loginname, userid, account)
 *   md5           (required; the 32-hex-digit unsalted MD5 of the password;
 *                  also: md5hash, passwordmd5, passwordhash, password, hash)
 *   display_name  (optional; also: displayname, fullname, name)
 *   email         (optional; also: e-mail, mail, emailaddress)
 *   role          (optional; "user" (default) or "admin"/"administrator")
 *   enabled       (optional; true/false, 1/0, yes/no, enabled/disabled; default true)
 *
 * Other columns are refused, so a misread export cannot land silently.
 */
export const LEGACY_COLUMNS = {
  username: ['username', 'user', 'login', 'loginname', 'userid', 'account', 'accountname'],
  md5: ['md5', 'md5hash', 'passwordmd5', 'passwordhash', 'password', 'hash'],
  displayName: ['displayname', 'fullname', 'name'],
  email: ['email', 'mail', 'emailaddress'],
  role: ['role'],
  enabled: ['enabled', 'active'],
} as const;

type Column = keyof typeof LEGACY_COLUMNS;

export interface LegacyRow {
  line: number;
  username: string;
  key: string;
  md5: string;
  displayName: string | null;
  email: string | null;
  role: Role;
  enabled: boolean;
}

export interface RowProblem {
  line: number;
  message: string;
}

export interface ImportReport {
  rows: number;
  imported: number;
  /** Rows not imported because the account already exists (what makes a second run a no-op). */
  skipped: { line: number; username: string; reason: string }[];
  /** Administrator rows left out because MaxAdministratorCount was reached. */
  overAdministratorLimit: { line: number; username: string }[];
  /** Rows refused as invalid (nothing is imported when there are any, unless skipInvalid). */
  invalid: RowProblem[];
  dryRun: boolean;
  elapsedMs: number;
}

export interface ImportOptions {
  /** Validate and report only. */
  dryRun?: boolean;
  /** Import the valid rows even when others are invalid (they are reported). */
  skipInvalid?: boolean;
  /** Rows per transaction (default 1000). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Named in the audit trail. */
  fileLabel?: string;
}

/** What the import needs of the database (src/storage/legacy-import-store.ts). */
export interface LegacyImportStore {
  /** Runs `work` in one transaction with a store bound to it. */
  transaction<T>(work: (store: LegacyImportStore) => Promise<T>): Promise<T>;
  existingKeys(keys: string[]): Promise<Set<string>>;
  /** `lock`: take the administrator roster lock first, for the rest of the transaction. */
  countAdministrators(lock?: boolean): Promise<number>;
  insertAccounts(accounts: ImportedAccount[], now: number): Promise<void>;
  audit(events: AuditEvent[], at: number): Promise<void>;
}

export interface ImportDeps {
  store: LegacyImportStore;
  policy: LivePolicySource;
  clock: Clock;
}

// ---------- CSV ----------

// Line breaks: CRLF, LF or a lone CR, in the file and inside quoted fields alike.
const LINE_BREAK = /\r\n|\r|\n/g;

// csv-parse's codes for broken quoting → what to tell the person who exported the file.
const QUOTING_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is not closed before the end of the file',
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field (quote the whole field and double the quote)',
  CSV_INVALID_CLOSING_QUOTE: 'unexpected character after a closing quote',
};

/**
 * CSV records (RFC 4180, parsed by csv-parse) with the line number each
 * starts on. Streaming, so a large export need not fit in one string. A
 * quoting error is an InputError naming the line its record starts on.
 */
export async function* csvRecords(chunks: AsyncIterable<string>): AsyncGenerator<{ line: number; fields: string[] }> {
  // pipeline: a read error reaches the loop below, and leaving the loop early closes the file.
  const parser = pipeline(Readable.from(chunks), parse({ bom: true, relax_column_count: true, record_delimiter: ['\r\n', '\n', '\r'] }), () => undefined);
  let line = 1;
  try {
    for await (const fields of parser as AsyncIterable<string[]>) {
      yield { line, fields };
      // A record spans its delimiter's line break plus those inside its quoted fields.
      line += 1 + fields.reduce((n, field) => n + (field.match(LINE_BREAK)?.length ?? 0), 0);
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    throw new InputError(`line ${line}: ${QUOTING_PROBLEMS[error.code] ?? error.message}`);
  }
}

function normalizeHeader(name: string): string {
  return name.trim().toLowerCase().replace(/[\s_-]+/g, '');
}

/** Column positions from the header line; throws naming every unknown, duplicate or missing column. */
export function mapHeader(fields: string[]): Record<Column, number | undefined> {
  const positions: Record<Column, number | undefined> = { username: undefined, md5: undefined, displayName: undefined, email: undefined, role: undefined, enabled: undefined };
  const problems: string[] = [];
  fields.forEach((raw, index) => {
    const name = normalizeHeader(raw);
    const column = (Object.keys(LEGACY_COLUMNS) as Column[]).find((c) => (LEGACY_COLUMNS[c] as readonly string[]).includes(name));
    if (!column) problems.push(`unknown column "${raw}"`);
    else if (positions[column] !== undefined) problems.push(`column ${column} appears twice ("${raw}")`);
    else positions[column] = index;
  });
  if (positions.username === undefined) problems.push('no username column');
  if (positions.md5 === undefined) problems.push('no md5 column');
  if (problems.length > 0) {
    throw new InputError(`line 1 (header): ${problems.join('; ')}. Expected columns: username, md5, and optionally display_name, email, role, enabled.`);
  }
  return positions;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y', 'enabled', 'active']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n', 'disabled', 'inactive']);
// eslint-disable-next-line no-control-regex -- control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/** One data line → a row to import, or the reasons it is refused. */
export function parseRow(line: number, fields: string[], columns: Record<Column, number | undefined>, width: number): LegacyRow | RowProblem {
  if (fields.length !== width) return { line, message: `expected ${width} fields, found ${fields.length}` };
  const cell = (column: Column) => (columns[column] === undefined ? '' : fields[columns[column] as number].trim());
  const problems: string[] = [];
  let username = '';
  try {
    username = validateNewUsername(cell('username'));
  } catch (error) {
    problems.push(`invalid username: ${(error as Error).message}`);
  }
  const md5 = cell('md5');
  if (!isLegacyMd5(md5)) problems.push(md5 === '' ? 'missing MD5 hash' : 'invalid MD5 hash (expected 32 hexadecimal digits)');
  const displayName = cell('displayName');
  if (displayName.length > 256 || CONTROL.test(displayName)) problems.push('invalid display name (at most 256 characters, no control characters)');
  const email = cell('email');
  if (email !== '' && (email.length > 320 || CONTROL.test(email) || !/^[^\s@]+@[^\s@]+$/.test(email))) problems.push(`invalid e-mail address "${email.slice(0, 64)}"`);
  const roleText = cell('role').toLowerCase();
  const role: Role | null = roleText === '' || roleText === 'user' ? 'user' : roleText === 'admin' || roleText === 'administrator' ? 'admin' : null;
  if (role === null) problems.push(`invalid role "${cell('role').slice(0, 32)}" (user or admin)`);
  const enabledText = cell('enabled').toLowerCase();
  const enabled = enabledText === '' || TRUE_WORDS.has(enabledText) ? true : FALSE_WORDS.has(enabledText) ? false : null;
  if (enabled === null) problems.push(`invalid enabled value "${cell('enabled').slice(0, 32)}" (true or false)`);
  if (problems.length > 0) return { line, message: problems.join('; ') };
  return { line, username, key: usernameKey(username), md5: md5.toLowerCase(), displayName: displayName || null, email: email || null, role: role as Role, enabled: enabled as boolean };
}

/** Reads and checks the whole file; nothing is written. */
export async function readLegacyCsv(chunks: AsyncIterable<string>): Promise<{ rows: LegacyRow[]; invalid: RowProblem[]; total: number }> {
  const rows: LegacyRow[] = [];
  const invalid: RowProblem[] = [];
  const firstLineOf = new Map<string, number>();
  let columns: Record<Column, number | undefined> | undefined;
  let width = 0;
  let total = 0;
  for await (const record of csvRecords(chunks)) {
    if (!columns) {
      columns = mapHeader(record.fields);
      width = record.fields.length;
      continue;
    }
    if (record.fields.length === 1 && record.fields[0].trim() === '') continue;
    total++;
    const parsed = parseRow(record.line, record.fields, columns, width);
    if (!('username' in parsed)) {
      invalid.push(parsed);
      continue;
    }
    const earlier = firstLineOf.get(parsed.key);
    if (earlier !== undefined) {
      invalid.push({ line: parsed.line, message: `username "${parsed.username}" already appears on line ${earlier}` });
      continue;
    }
    firstLineOf.set(parsed.key, parsed.line);
    rows.push(parsed);
  }
  if (!columns) throw new InputError('The file is empty: expected a header line naming the columns.');
  return { rows, invalid, total };
}

// ---------- import ----------

/**
 * Imports valid rows in batches, one transaction per batch. Existing names are
 * skipped (never overwritten), so running the same file twice changes
 * nothing. Administrator rows take free MaxAdministratorCount slots under the
 * roster lock (as the API does) and are reported when none is left.
 */
export async function importLegacyRows(deps: ImportDeps, rows: LegacyRow[], options: ImportOptions = {}): Promise<Omit<ImportReport, 'rows' | 'invalid' | 'dryRun' | 'elapsedMs'>> {
  const batchSize = options.batchSize ?? 1000;
  const report = { imported: 0, skipped: [] as ImportReport['skipped'], overAdministratorLimit: [] as ImportReport['overAdministratorLimit'] };
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    // A concurrent creation of one of these names aborts the batch; the retry then skips it.
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await importBatch(deps, batch, options);
        report.imported += outcome.imported;
        report.skipped.push(...outcome.skipped);
        report.overAdministratorLimit.push(...outcome.overAdministratorLimit);
        break;
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= 3) throw error;
      }
    }
    options.onProgress?.(Math.min(start + batchSize, rows.length), rows.length);
  }
  return report;
}

/** The names among these rows that already have an account. */
function existingKeys(store: LegacyImportStore, rows: LegacyRow[]): Promise<Set<string>> {
  return store.existingKeys(rows.map((row) => row.key));
}

type Admission = Omit<ImportReport, 'rows' | 'invalid' | 'dryRun' | 'elapsedMs' | 'imported'> & { fresh: LegacyRow[]; freeSlots: number };

/**
 * Which rows of a batch are written: names that exist are skipped, and
 * administrators take the free MaxAdministratorCount slots in file order.
 * The import and its dry run both decide with this.
 */
function admit(batch: LegacyRow[], existing: Set<string>, freeSlots: number): Admission {
  const admission: Admission = { fresh: [], skipped: [], overAdministratorLimit: [], freeSlots };
  for (const row of batch) {
    if (existing.has(row.key)) admission.skipped.push({ line: row.line, username: row.username, reason: 'an account with this name already exists' });
    else if (row.role !== 'admin') admission.fresh.push(row);
    else if (admission.freeSlots > 0) {
      admission.freeSlots--;
      admission.fresh.push(row);
    } else admission.overAdministratorLimit.push({ line: row.line, username: row.username });
  }
  return admission;
}

/** What importing these rows would do now, reading only (the dry run). */
export async function predictLegacyRows(deps: ImportDeps, rows: LegacyRow[], batchSize = 1000): Promise<Omit<ImportReport, 'rows' | 'invalid' | 'dryRun' | 'elapsedMs'>> {
  const report = { imported: 0, skipped: [] as ImportReport['skipped'], overAdministratorLimit: [] as ImportReport['overAdministratorLimit'] };
  let freeSlots = deps.policy.get().administrators.maxAdministratorCount - (await deps.store.countAdministrators());
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    const admission = admit(batch, await existingKeys(deps.store, batch), freeSlots);
    freeSlots = admission.freeSlots;
    report.imported += admission.fresh.length;
    report.skipped.push(...admission.skipped);
    report.overAdministratorLimit.push(...admission.overAdministratorLimit);
  }
  return report;
}

async function importBatch(deps: ImportDeps, batch: LegacyRow[], options: ImportOptions) {
  const now = deps.clock.now();
  const { fresh, skipped, overAdministratorLimit } = await deps.store.transaction(async (tx) => {
    const existing = await existingKeys(tx, batch);
    let freeSlots = 0;
    if (batch.some((row) => row.role === 'admin' && !existing.has(row.key))) {
      freeSlots = deps.policy.get().administrators.maxAdministratorCount - (await tx.countAdministrators(true));
    }
    const admission = admit(batch, existing, freeSlots);
    await tx.insertAccounts(
      admission.fresh.map((row) => ({ username: row.username, usernameKey: row.key, displayName: row.displayName, email: row.email, role: row.role, enabled: row.enabled, source: INTERNAL_BACKEND, passwordHash: row.md5 })),
      // The export does not say how old the password is: its age counts from the import.
      now,
    );
    await tx.audit(
      admission.fresh.map((row) => ({
        event: 'account_imported',
        outcome: 'success' as const,
        username: row.username,
        actor: 'cli',
        details: { source: 'nec_cas_csv', file: options.fileLabel ?? null, line: row.line, role: row.role, enabled: row.enabled },
      })),
      now,
    );
    return admission;
  });
  return { imported: fresh.length, skipped, overAdministratorLimit };
}

/** Reads, checks and (unless a dry run, or invalid rows without skipInvalid) imports a CSV file. */
export async function importLegacyFile(deps: ImportDeps, file: string, options: ImportOptions = {}): Promise<ImportReport> {
  const started = process.hrtime.bigint();
  const { rows, invalid, total } = await readLegacyCsv(createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }));
  const refuse = invalid.length > 0 && !options.skipInvalid;
  const nothing = { imported: 0, skipped: [], overAdministratorLimit: [] };
  const done = refuse ? nothing : options.dryRun ? await predictLegacyRows(deps, rows, options.batchSize) : await importLegacyRows(deps, rows, options);
  if (!options.dryRun && !refuse) {
    await deps.store.audit(
      [{ event: 'legacy_import', outcome: 'info', actor: 'cli', details: { file: options.fileLabel ?? null, rows: total, imported: done.imported, skipped: done.skipped.length, overAdministratorLimit: done.overAdministratorLimit.length, invalid: invalid.length } }],
      deps.clock.now(),
    );
  }
  return { rows: total, ...done, invalid, dryRun: options.dryRun === true, elapsedMs: Number(process.hrtime.bigint() - started) / 1e6 };
}
