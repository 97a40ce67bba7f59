import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');

/** The built CLI; the test command builds before testing, so a missing build is a setup error, not a skip. */
export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (scripts/test.sh does) before these tests`);
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string, cwd?: string): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, input, cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A `portcullis start` (or other long-running command: `command`) child process with its output collected. */
export class ServerProcess {
  readonly output: string[] = [];
  private buffer = '';
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;

  constructor(env: NodeJS.ProcessEnv, command: string[] = [process.execPath, CLI, 'start']) {
    this.child = spawn(command[0], command.slice(1), { env: { PATH: process.env.PATH, ...env } });
    const collect = (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      const lines = this.buffer.split('\n');
      this.buffer = lines.pop() ?? '';
      this.output.push(...lines);
    };
    this.child.stdout.on('data', collect);
    this.child.stderr.on('data', collect);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Waits until an output line matches; fails with the output so far if the process exits first. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      // The unfinished last line too: a prompt ends without a newline.
      for (const line of [...this.output, this.buffer]) {
        const m = line.match(pattern);
        if (m) return m;
      }
      if (exited) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no line matching ${pattern} (exited=${exited}); output:\n${this.output.join('\n')}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }
}
