import { ADMIN_COMMANDS } from './admin-commands';
import { type Command, dispatch } from './command-table';
import type { CliContext } from './context';
import { OPS_COMMANDS, SERVER_COMMANDS } from './ops-commands';
import { SERVICE_COMMANDS } from './service-commands';
import { USER_COMMANDS } from './user-commands';
import { MFA_COMMANDS } from './mfa-commands';
import { PASSWORDS_COMMANDS } from './passwords';

/** Every command, in the order `portcullis --help` lists them. One entry per command (src/cli/command-table.ts). */
export const COMMANDS: readonly Command<CliContext>[] = [...SERVER_COMMANDS, ...USER_COMMANDS, ...MFA_COMMANDS, ...SERVICE_COMMANDS, ...OPS_COMMANDS, ...ADMIN_COMMANDS, ...PASSWORDS_COMMANDS];

/** Runs one command line; returns the exit code (usage mistakes and failures throw). */
export function runCommand(argv: string[], ctx: CliContext): Promise<number> {
  return dispatch(COMMANDS, argv, ctx, ctx.io);
}
