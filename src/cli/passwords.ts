import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load';
import { writeFilterAtomically } from '../policy/breached-filter';
import { BreachedFilterSource, type FilterInfo, breachedFilterPath } from '../policy/breached-filter-source';
import { importBreachedCorpus, measureFalsePositiveRate } from '../policy/breached-import';
import { InputError } from '../shared/errors';
import { type Command, UsageError } from './command-table';
import type { CliContext } from './context';

/** A usage mistake: main.ts prints it on one line and exits 2. */
export class PasswordsUsageError extends InputError {}

interface ImportArgs {
  file: string;
  top?: number;
  fpRate: number;
}

function parseImportArgs(argv: string[]): ImportArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { top: { type: 'string' }, 'fp-rate': { type: 'string' } } });
  } catch (error) {
    throw new PasswordsUsageError(`passwords import-breached: ${(error as Error).message.split('\n')[0]}`);
  }
  const positional = parsed.positionals;
  const { top, 'fp-rate': fpRate } = parsed.values;
  if (positional.length !== 1) throw new PasswordsUsageError(`usage: portcullis passwords import-breached FILE [--top N] [--fp-rate R]`);
  if (top !== undefined && !/^[1-9]\d{0,11}$/.test(top)) throw new PasswordsUsageError(`--top needs a whole number of at least 1, got "${top}"`);
  const rate = Number(fpRate ?? '0.001');
  if (!(rate >= 1e-9 && rate <= 0.5)) throw new PasswordsUsageError(`--fp-rate must be between 0.000000001 and 0.5, got "${fpRate}"`);
  return { file: positional[0], top: top === undefined ? undefined : Number(top), fpRate: rate };
}

/** A one-line progress bar, redrawn in place, only when stderr is a terminal. */
function progressBar(): ((pass: 1 | 2, bytes: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (pass, bytes, total) => {
    const now = Date.now();
    if (now - last < 200 && bytes < total) return;
    last = now;
    const share = total > 0 ? bytes / total : 1;
    const width = 30;
    const filled = Math.round(share * width);
    process.stderr.write(`\rpass ${pass}/2 [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%`);
    if (pass === 2 && bytes >= total) process.stderr.write('\n');
  };
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

async function importBreached(argv: string[], print: (line: string) => void): Promise<void> {
  const args = parseImportArgs(argv);
  if (!existsSync(args.file) || !statSync(args.file).isFile()) throw new InputError(`${args.file}: no such file`);
  const loaded = loadConfig();
  const { file: target } = breachedFilterPath(loaded.dataDir, loaded.config.password.breachedFilterFile);
  const started = process.hrtime.bigint();
  const result = await importBreachedCorpus(args.file, { fpRate: args.fpRate, top: args.top, onProgress: progressBar() });
  const size = writeFilterAtomically(result.header, result.bits, target);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const measured = measureFalsePositiveRate(result.filter);
  print(`wrote ${target}`);
  print(`  source: ${result.header.source}, ${result.header.createdAt}`);
  print(`  entries: ${result.header.entries} (of ${result.lines} lines) in ${seconds.toFixed(1)} s, ${Math.round(result.lines / seconds)} lines/s`);
  print(`  size: ${size} bytes (${mib(size)}), ${result.filter.bitsPerEntry.toFixed(2)} bits per entry, k=${result.header.k}`);
  print(`  false positives: ${(measured * 100).toFixed(3)}% measured on 100,000 random strings (sized for ${(args.fpRate * 100).toFixed(3)}%)`);
  print('  running instances pick it up on SIGHUP (or at their next start)');
}

/** `portcullis passwords …` (src/cli/command-table.ts). */
export const PASSWORDS_COMMANDS: Command<CliContext>[] = [
  {
    name: 'passwords import-breached',
    args: 'FILE',
    summary: 'build the breached-password filter from a corpus (SHA-1[:count] lines or plain passwords)',
    options: {
      top: { type: 'string', value: 'N', help: 'keep the N most frequent (by count)' },
      'fp-rate': { type: 'string', value: 'R', help: 'false-positive rate to size for (default 0.001)' },
    },
    async run({ positionals: [file], value }, ctx) {
      const argv = [file, ...(value('top') !== undefined ? ['--top', value('top') as string] : []), ...(value('fp-rate') !== undefined ? ['--fp-rate', value('fp-rate') as string] : [])];
      try {
        await importBreached(argv, (line) => ctx.io.out(`${line}\n`));
      } catch (error) {
        throw error instanceof PasswordsUsageError ? new UsageError(error.message) : error;
      }
    },
  },
];

/** For `config check`: the filter the service would load (verified), or why it cannot. */
export async function breachedFilterSummary(dataDir: string, configured: string | undefined): Promise<FilterInfo | { file: string; status: string }> {
  const { file, required } = breachedFilterPath(dataDir, configured);
  const source = new BreachedFilterSource(file, required);
  await source.load();
  return source.info() ?? { file, status: 'none imported (portcullis passwords import-breached FILE)' };
}
