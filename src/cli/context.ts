import { readFileSync, statSync } from 'node:fs';
import type { LoadOptions, LoadedConfig } from '../config/load';
import type { Services } from '../services';
import { type CliIo, UsageError } from './command-table';

// The command modules import the service code inside each command (`await import`), so that
// `--help`, usage errors and `--version` answer without loading the whole server.

/** What every command gets: where to print, how to load the config, how to reach the services. */
export interface CliContext {
  io: CliIo;
  load: LoadOptions;
  /** Runs work with the services of the existing database, then closes them (tests inject their own). */
  withServices<T>(work: (services: Services) => Promise<T>): Promise<T>;
  /** The terminal to prompt on for a password, when standard input is one. */
  terminal?: NodeJS.ReadStream;
}

/** An expected failure with its own exit code and one line to print. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}

export const CLI_ACTOR = { name: 'cli' };

/**
 * Refuses to go on when the embedded SQLite database does not exist: only
 * start, migrate and restore create one. Run elsewhere by mistake, a command
 * would otherwise create an empty database there and report an empty world.
 */
export async function requireExistingDatabase(loaded: LoadedConfig): Promise<void> {
  const { sqliteDatabasePath } = await import('../storage/db');
  const file = sqliteDatabasePath(loaded.config.database, loaded.dataDir);
  if (file === null) return;
  try {
    statSync(file);
  } catch (error) {
    // Only a file that is not there is "no database"; one that cannot be reached (permission denied) is reported by opening it.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return;
    throw new CliFailure(`no database at ${file} (set PORTCULLIS_DATA_DIR or run from the install directory; "portcullis migrate" creates a new one)`);
  }
}

export function processContext(load: LoadOptions = {}): CliContext {
  return {
    io: { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text), interactive: Boolean(process.stderr.isTTY) },
    load,
    terminal: process.stdin.isTTY ? process.stdin : undefined,
    async withServices(work) {
      const [{ loadConfig }, { buildServicesAfterMigration }, { createLogger }] = await Promise.all([import('../config/load'), import('../server'), import('../shared/logger')]);
      const loaded = loadConfig(load);
      await requireExistingDatabase(loaded);
      const services = await buildServicesAfterMigration(loaded, createLogger('warn'));
      try {
        return await work(services);
      } finally {
        await services.close();
      }
    },
  };
}

function readStdinPassword(): string {
  const password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if (password.length === 0) throw new UsageError('no password on standard input');
  return password;
}

/** Reads one line from a terminal without echoing it. */
export function promptHidden(question: string, input: NodeJS.ReadStream, output: NodeJS.WritableStream): Promise<string> {
  // Echo off before the prompt shows: whatever is typed after it stays hidden.
  input.setRawMode(true);
  output.write(question);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (outcome: () => void) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      outcome();
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(() => resolve(text));
        // Raw mode turns Ctrl-C and Ctrl-D into characters: treat them as the terminal would.
        if (ch === '\u0003' || (ch === '\u0004' && text === '')) return finish(() => reject(new CliFailure('cancelled', 130)));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else if (ch >= ' ') text += ch;
      }
    };
    input.on('data', onData);
  });
}

/**
 * The password for `user add` / `user passwd`: standard input with
 * --password-stdin (scripts), else a hidden prompt asked twice when standard
 * input is a terminal, else (or when the first answer is empty) undefined.
 */
export async function readPassword(ctx: CliContext, fromStdin: boolean): Promise<string | undefined> {
  if (fromStdin) return readStdinPassword();
  if (!ctx.terminal) return undefined;
  const first = await promptHidden('New password: ', ctx.terminal, process.stderr);
  if (first === '') return undefined;
  const again = await promptHidden('Repeat the password: ', ctx.terminal, process.stderr);
  if (again !== first) throw new CliFailure('the passwords differ; nothing changed');
  return first;
}
