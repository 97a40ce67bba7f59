import type { LoadOptions } from '../../src/config/load';
import type { CliIo } from '../../src/cli/command-table';
import { runCommand } from '../../src/cli/commands';
import { type CliContext, processContext } from '../../src/cli/context';
import type { Services } from '../../src/services';

/** A CLI context printing into `io`, loading with `load`, and (when given) using already built services. */
export function testCliContext(load: LoadOptions, io: CliIo, services?: Services): CliContext {
  const base = processContext(load);
  return { ...base, io, terminal: undefined, withServices: services ? (work) => work(services) : base.withServices };
}

/** Runs one command line in this process (as `portcullis ARGS` would); returns the exit code. */
export function runInProcess(args: string[], ctx: CliContext): Promise<number> {
  return runCommand(args, ctx);
}
