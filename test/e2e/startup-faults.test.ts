import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CLI, type CliResult, ServerProcess, requireBuild, runCli } from '../support/process';

function freshDirs() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-faults-'));
  const configDir = path.join(root, 'config');
  mkdirSync(configDir);
  const dataDir = path.join(root, 'data');
  return { root, configDir, dataDir, env: { PORTCULLIS_PORT: '0', PORTCULLIS_HOST: '127.0.0.1', PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_CONFIG_DIR: configDir } };
}

/** Runs the CLI with `dir` bind-mounted read-only, in a private mount namespace (no root needed: a user namespace). */
function runOnReadOnly(dir: string, args: string[], env: NodeJS.ProcessEnv): CliResult {
  const script = 'mount --bind -o ro "$1" "$1" && shift && exec "$@"';
  const r = spawnSync('unshare', ['--map-root-user', '--mount', 'sh', '-c', script, 'sh', dir, process.execPath, CLI, ...args], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI as a user who may not write the data directory (nobody, when the tests run as root). */
function runUnprivileged(args: string[], env: NodeJS.ProcessEnv, dataDir: string): CliResult {
  const asRoot = process.getuid?.() === 0;
  if (!asRoot) chmodSync(dataDir, 0o500);
  try {
    const r = spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 60_000, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    if (!asRoot) chmodSync(dataDir, 0o700);
  }
}

/** Exit 1, nothing on stdout, exactly one line on stderr matching `line`, and no stack trace anywhere. */
function expectOneLine(result: CliResult, line: RegExp): void {
  expect({ status: result.status, stdout: result.stdout }).toEqual({ status: 1, stdout: '' });
  expect(result.stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(line)]);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a data directory that cannot be written: one line naming the file and why, exit 1', () => {
  beforeAll(requireBuild);

  it('read-only file system: start and CLI commands, before and after the database exists', () => {
    const dirs = freshDirs();
    mkdirSync(dirs.dataDir);
    const file = path.join(dirs.dataDir, 'portcullis.sqlite');
    const expected = new RegExp(`^portcullis: ${escape(file)}: read-only file system`);
    expectOneLine(runOnReadOnly(dirs.root, ['start'], dirs.env), expected);
    // Before the database exists, a command other than start, migrate or restore says there is none (issue 16 item 6).
    expectOneLine(runOnReadOnly(dirs.root, ['user', 'list'], dirs.env), new RegExp(`^portcullis: no database at ${escape(file)} `));
    expect(runCli(['migrate'], dirs.env).status).toBe(0);
    for (const args of [['start'], ['user', 'list'], ['user', 'add', 'bob'], ['migrate'], ['service', 'list']]) expectOneLine(runOnReadOnly(dirs.root, args, dirs.env), expected);
  });

  it('permission denied: start and CLI commands', () => {
    const dirs = freshDirs();
    expect(runCli(['migrate'], dirs.env).status).toBe(0);
    const expected = new RegExp(`^portcullis: ${escape(path.join(dirs.dataDir, 'portcullis.sqlite'))}: permission denied`);
    for (const args of [['start'], ['user', 'list'], ['migrate']]) expectOneLine(runUnprivileged(args, dirs.env, dirs.dataDir), expected);
  });
});

describe('the bootstrap administrator survives a failed first start', () => {
  beforeAll(requireBuild);

  it('a port in use, then a missing certificate: no account yet; the first start that listens shows the password; later starts show the recovery command', async () => {
    const dirs = freshDirs();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const taken = runCli(['start'], { ...dirs.env, PORTCULLIS_PORT: String(port) });
      expectOneLine(taken, new RegExp(`^portcullis: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use$`));
    } finally {
      blocker.close();
    }
    expect(runCli(['user', 'list'], dirs.env).stdout).toBe('');

    const missing = path.join(dirs.root, 'missing-cert.pem');
    writeFileSync(path.join(dirs.configDir, 'portcullis.json'), JSON.stringify({ server: { tls: { certFile: missing, keyFile: path.join(dirs.root, 'missing-key.pem') } } }));
    const noCert = runCli(['start'], dirs.env);
    expect(noCert.status).toBe(1);
    expect(noCert.stderr).toContain(missing);
    expect(noCert.stderr).not.toMatch(/^\s+at /m);
    expect(runCli(['user', 'list'], dirs.env).stdout).toBe('');
    writeFileSync(path.join(dirs.configDir, 'portcullis.json'), '{}');

    const first = new ServerProcess(dirs.env);
    try {
      await first.waitFor(/one-time password: \S+/);
      expect(first.output.join('\n')).not.toContain('has never signed in');
    } finally {
      expect(await first.stop()).toBe(0);
    }
    const second = new ServerProcess(dirs.env);
    try {
      await second.waitFor(/Administrator "admin" has never signed in/);
      await second.waitFor(/^ {4}portcullis user passwd admin --password-stdin$/);
      expect(second.output.join('\n')).not.toContain('one-time password');
    } finally {
      await second.stop();
    }
  });
});

describe('one SQLite database, one portcullis start', () => {
  beforeAll(requireBuild);

  it('refuses a second start on the same data directory, takes over the lock of a killed one, releases it on exit', async () => {
    const dirs = freshDirs();
    const lockFile = path.join(dirs.dataDir, 'portcullis.sqlite.lock');
    const first = new ServerProcess(dirs.env);
    try {
      await first.waitFor(/listening on/);
      await first.waitFor(new RegExp(`lock file: ${escape(lockFile)}$`));
      expect(readFileSync(lockFile, 'utf8')).toMatch(new RegExp(`^${first.child.pid} `));
      const second = runCli(['start'], dirs.env);
      expectOneLine(second, new RegExp(`^portcullis: .*portcullis\\.sqlite is in use by another Portcullis \\(pid ${first.child.pid}, lock file ${escape(lockFile)}\\)`));
      // CLI commands still work next to the running service.
      expect(runCli(['user', 'list'], dirs.env).status).toBe(0);
    } finally {
      await first.stop('SIGKILL');
    }
    expect(existsSync(lockFile)).toBe(true);

    const third = new ServerProcess(dirs.env);
    try {
      await third.waitFor(new RegExp(`lock file: .*\\(taken over from pid ${first.child.pid}, no longer running\\)`));
    } finally {
      expect(await third.stop('SIGTERM')).toBe(0);
    }
    expect(existsSync(lockFile)).toBe(false);
  });
});
