#!/usr/bin/env node
import { ConfigError, ConflictError, InputError, NotFoundError, PolicyError } from '../shared/errors';
import { VERSION } from '../shared/version';
import { UsageError } from './command-table';
import { runCommand } from './commands';
import { CliFailure, processContext } from './context';
import { faultMessage } from './fault-message';

// A reader that stops early (`portcullis user list | head -1`) is not an error: stop quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? 0 : 1));
}

function oneLine(error: unknown): string {
  if (error instanceof ConfigError) return `configuration error:\n  ${error.problems.join('\n  ')}`;
  if ([UsageError, CliFailure, InputError, NotFoundError, ConflictError, PolicyError].some((known) => error instanceof known)) return (error as Error).message;
  const fault = faultMessage(error);
  if (fault) return fault;
  const e = error as { code?: string; message?: string };
  return `error: ${e?.code ? `${e.code}: ` : ''}${e?.message ?? String(error)}`;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return 2;
  return error instanceof CliFailure ? error.exitCode : 1;
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--version' || argv[0] === '-V') {
    process.stdout.write(`portcullis ${VERSION}\n`);
    return;
  }
  const code = await runCommand(argv, processContext());
  if (code !== 0) process.exitCode = code;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`portcullis: ${oneLine(error)}\n`);
  if (error instanceof UsageError && error.usage) process.stderr.write(`${error.usage}\n`);
  process.exit(exitCodeOf(error));
});
