import { parseArgs } from 'node:util';

/**
 * The CLI's command table and its strict parser.
 *
 * Parsing is node's `util.parseArgs` with `strict: true` rather than
 * commander: it ships with Node (no dependency for the smallest part of the
 * program), and it only tokenizes, so the table below stays the one place
 * that says which commands and options exist and what their usage line is.
 * Adding a command is adding one `Command` entry to a list in main.ts.
 */

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether progress may be drawn (stderr is a terminal). */
  interactive: boolean;
}

export interface CliOption {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in usage for a string option ("URL", "admin|user"). */
  value?: string;
  help: string;
}

export interface CommandArgs {
  positionals: string[];
  /** Whether a boolean option was given. */
  flag(name: string): boolean;
  /** A string option's value, when given. */
  value(name: string): string | undefined;
}

export interface Command<Ctx> {
  /** The words that select it: "user add". */
  name: string;
  /** Positional arguments as shown in usage: "NAME", "FROM INTO", "[FILE]". Brackets mark optional ones. */
  args?: string;
  options?: Record<string, CliOption>;
  summary: string;
  /** Further lines printed by `--help`. */
  details?: string;
  /** Returns the exit code (0 when nothing is returned). */
  run(args: CommandArgs, ctx: Ctx): Promise<number | void>;
}

/** A usage mistake: exit 2, the message, then the usage of the nearest command. */
export class UsageError extends Error {
  constructor(
    message: string,
    public usage?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

const HELP_OPTION: CliOption = { type: 'boolean', short: 'h', help: 'show this help' };

function optionSynopsis(name: string, option: CliOption): string {
  return option.type === 'string' ? `--${name} ${option.value ?? 'VALUE'}` : `--${name}`;
}

export function synopsis(command: Command<unknown>): string {
  const options = Object.entries(command.options ?? {}).map(([name, option]) => `[${optionSynopsis(name, option)}]`);
  return ['portcullis', command.name, command.args, ...options].filter(Boolean).join(' ');
}

/** `--help` of one command: synopsis, summary, each option. */
export function commandHelp(command: Command<unknown>): string {
  const lines = [`Usage: ${synopsis(command)}`, `  ${command.summary}`];
  if (command.details) lines.push(...command.details.split('\n').map((l) => `  ${l}`));
  const options = Object.entries({ ...command.options, help: HELP_OPTION });
  lines.push('Options:');
  for (const [name, option] of options) {
    const flags = `${option.short ? `-${option.short}, ` : ''}${optionSynopsis(name, option)}`;
    lines.push(`  ${flags.padEnd(30)} ${option.help}`);
  }
  return lines.join('\n');
}

/** The list of commands (all of them, or one group such as "user"). */
export function commandList(commands: readonly Command<unknown>[], group?: string): string {
  const shown = group ? commands.filter((c) => c.name.startsWith(`${group} `)) : commands;
  const lines = [`Usage: portcullis ${group ?? '<command>'} ${group ? '<subcommand> ' : ''}[options]`];
  for (const command of shown) {
    const left = [command.name, command.args].filter(Boolean).join(' ');
    lines.push(left.length < 30 ? `  ${left.padEnd(30)} ${command.summary}` : `  ${left}\n  ${' '.repeat(30)} ${command.summary}`);
  }
  lines.push(`Run "portcullis ${group ?? '<command>'}${group ? ' <subcommand>' : ''} --help" for its options; "portcullis --version" prints the version.`);
  return lines.join('\n');
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** " (did you mean X?)" when one candidate is close to what was typed. */
export function suggestion(typed: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(typed, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function positionalLimits(args: string | undefined): { min: number; max: number } {
  const words = (args ?? '').split(' ').filter(Boolean);
  return { min: words.filter((w) => !w.startsWith('[')).length, max: words.length };
}

/** node's parseArgs errors, in our words: the option, and what is close to it. */
function parseProblem(error: unknown, command: Command<unknown>): string {
  const e = error as { code?: string; message?: string };
  const unknown = /Unknown option '([^']+)'/.exec(e.message ?? '');
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const names = Object.keys(command.options ?? {}).map((n) => `--${n}`);
    return `${command.name}: unknown option ${unknown[1]}${suggestion(unknown[1], names)}`;
  }
  return `${command.name}: ${(e.message ?? String(error)).replace(/\. To specify a positional argument.*$/s, '')}`;
}

function parseCommandArgs(command: Command<unknown>, argv: string[]): CommandArgs & { help: boolean } {
  const options = { ...command.options, help: HELP_OPTION };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: Object.fromEntries(Object.entries(options).map(([name, o]) => [name, o.short ? { type: o.type, short: o.short } : { type: o.type }])),
    });
  } catch (error) {
    throw new UsageError(parseProblem(error, command), commandHelp(command));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  return {
    positionals: parsed.positionals,
    help: values.help === true,
    flag: (name) => values[name] === true,
    value: (name) => (typeof values[name] === 'string' ? values[name] : undefined),
  };
}

type Found<Ctx> = { command: Command<Ctx>; rest: string[] } | { help: string };

/** The command the leading words select, the help asked for, or a usage error naming the nearest group. */
function findCommand<Ctx>(commands: readonly Command<Ctx>[], argv: string[]): Found<Ctx> {
  const [group, sub] = argv;
  if (group === undefined || group === '-h' || group === '--help' || group === 'help') return { help: commandList(commands) };
  let best: { command: Command<Ctx>; rest: string[] } | undefined;
  for (const command of commands) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.command.name.split(' ').length)) best = { command, rest: argv.slice(words.length) };
  }
  if (best) return best;
  if (!commands.some((c) => c.name.startsWith(`${group} `))) {
    const names = new Set(commands.map((c) => c.name.split(' ')[0]));
    throw new UsageError(`unknown ${group.startsWith('-') ? 'option' : 'command'} "${group}"${suggestion(group, names)}`, commandList(commands));
  }
  // The deepest group the words name ("user", "user mfa"), and the word after it.
  let depth = 1;
  while (depth < argv.length && commands.some((c) => c.name.startsWith(`${argv.slice(0, depth + 1).join(' ')} `))) depth++;
  const prefix = argv.slice(0, depth).join(' ');
  const next = depth === 1 ? sub : argv[depth];
  if (next === '-h' || next === '--help') return { help: commandList(commands, prefix) };
  const subs = commands.filter((c) => c.name.startsWith(`${prefix} `)).map((c) => c.name.split(' ')[depth]);
  const what = next === undefined ? `${prefix}: a subcommand is required` : `unknown ${prefix} command "${next}"${suggestion(next, subs)}`;
  throw new UsageError(what, commandList(commands, prefix));
}

/**
 * Runs argv against the table. Returns the exit code (help: 0); usage
 * mistakes throw UsageError carrying the usage to show; other errors pass through.
 */
export async function dispatch<Ctx>(commands: readonly Command<Ctx>[], argv: string[], ctx: Ctx, io: CliIo): Promise<number> {
  const found = findCommand(commands, argv);
  if ('help' in found) {
    io.out(`${found.help}\n`);
    return 0;
  }
  const { command, rest } = found;
  const args = parseCommandArgs(command, rest);
  if (args.help) {
    io.out(`${commandHelp(command)}\n`);
    return 0;
  }
  const { min, max } = positionalLimits(command.args);
  if (args.positionals.length < min || args.positionals.length > max) {
    const expected = command.args ? `expects ${command.args}` : 'takes no arguments';
    throw new UsageError(`${command.name} ${expected}${args.positionals.length > max ? `; unexpected "${args.positionals[max]}"` : ''}`, commandHelp(command));
  }
  try {
    return (await command.run(args, ctx)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) error.usage ??= commandHelp(command);
    throw error;
  }
}
