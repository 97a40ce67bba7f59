import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { CLI, REPO, ServerProcess, requireBuild, runCli } from '../support/process';
import { COMMANDS } from '../../src/cli/commands';
import { runInProcess, testCliContext } from '../support/cli';

const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** A migrated data directory of its own, and the environment that points at it. */
function freshInstall(): { root: string; env: NodeJS.ProcessEnv } {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'portcullis-cli-')));
  mkdirSync(path.join(root, 'config'));
  const env = { PORTCULLIS_DATA_DIR: path.join(root, 'data'), PORTCULLIS_CONFIG_DIR: path.join(root, 'config') };
  expect(runCli(['migrate'], env).status).toBe(0);
  return { root, env };
}

function csv(root: string, name: string, rows: string[]): string {
  const file = path.join(root, name);
  writeFileSync(file, `username,md5,role\n${rows.join('\n')}\n`);
  return file;
}

describe('portcullis CLI: strict parsing, help and version (real processes)', () => {
  beforeAll(requireBuild);

  it('refuses an unknown option with exit 2 and the usage of that command, and changes nothing', () => {
    const { env } = freshInstall();
    const typo = runCli(['user', 'add', 'x', '--rol', 'admin'], env);
    expect([typo.status, typo.stdout]).toEqual([2, '']);
    expect(typo.stderr).toContain('portcullis: user add: unknown option --rol (did you mean --role?)\nUsage: portcullis user add NAME [--role admin|user]');
    for (const args of [['user', 'list', '--json'], ['config', 'check', '--bogus'], ['service', 'list', '-x'], ['import-legacy', 'f.csv', '--force']]) {
      const r = runCli(args, env);
      expect([args, r.status]).toEqual([args, 2]);
      expect(r.stderr).toMatch(/unknown option .*\nUsage: portcullis /);
    }
    expect(runCli(['user', 'list'], env).stdout).toBe('');
  });

  it('refuses unknown commands and missing or extra arguments with exit 2 and the nearest usage', () => {
    const { env } = freshInstall();
    const unknown = runCli(['frobnicate'], env);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('portcullis: unknown command "frobnicate"\nUsage: portcullis <command>');
    const sub = runCli(['user', 'frob'], env);
    expect(sub.status).toBe(2);
    expect(sub.stderr).toContain('portcullis: unknown user command "frob"\nUsage: portcullis user <subcommand>');
    expect(runCli(['user', 'lst'], env).stderr).toContain('(did you mean list?)');
    for (const args of [['service'], ['service', 'add'], ['backup'], ['import-legacy'], ['user', 'show', 'a', 'b']]) {
      const r = runCli(args, env);
      expect([args, r.status]).toEqual([args, 2]);
      expect(r.stderr).toMatch(/\nUsage: portcullis /);
      expect(r.stderr.split('\n')[0]).toMatch(/^portcullis: /);
    }
  });

  it('prints help for the program, a group and a command (exit 0), and the version', () => {
    for (const args of [['--help'], ['-h'], []]) {
      const r = runCli(args, {});
      expect([args, r.status]).toEqual([args, 0]);
      for (const command of COMMANDS) expect(r.stdout).toContain(`  ${command.name}`);
    }
    expect(runCli(['user', '--help'], {}).stdout).toMatch(/^Usage: portcullis user <subcommand>/);
    const help = runCli(['user', 'add', '-h'], {});
    expect([help.status, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^Usage: portcullis user add NAME \[--role admin\|user\] \[--password-stdin\] \[--must-change\]\n/);
    expect(help.stdout).toContain('  -h, --help ');
    const version = runCli(['--version'], {});
    expect([version.status, version.stdout]).toEqual([0, `portcullis ${VERSION}\n`]);
  });

  it('has --help on every command (in process: the same table and dispatch as the binary)', async () => {
    for (const command of COMMANDS) {
      const out: string[] = [];
      const ctx = testCliContext({}, { out: (t) => out.push(t), err: () => undefined, interactive: false });
      expect([command.name, await runInProcess([...command.name.split(' '), '--help'], ctx)]).toEqual([command.name, 0]);
      expect(out.join('')).toMatch(new RegExp(`^Usage: portcullis ${command.name}\\b`));
    }
  });
});

describe('portcullis CLI: pipes, missing databases, backups, imports (real processes)', () => {
  beforeAll(requireBuild);

  it('exits quietly when the reader stops early (user list | head -1, config check | head -1)', () => {
    const { root, env } = freshInstall();
    const many = Array.from({ length: 3000 }, (_, i) => `user${String(i).padStart(5, '0')},${md5(String(i))},user`);
    expect(runCli(['import-legacy', csv(root, 'many.csv', many)], env).status).toBe(0);
    for (const command of ['user list', 'config check']) {
      const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `"${process.execPath}" "${CLI}" ${command} | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect([command, r.stdout.split('\n').filter(Boolean).length, r.stderr]).toEqual([command, 1, 'exit=0\n']);
    }
  });

  it('refuses to create a database anywhere but start, migrate and restore', () => {
    const cwd = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'portcullis-elsewhere-')));
    writeFileSync(path.join(cwd, 'a.csv'), 'username,md5\n');
    const expected = `portcullis: no database at ${path.join(cwd, 'data', 'portcullis.sqlite')} (set PORTCULLIS_DATA_DIR or run from the install directory`;
    for (const args of [['user', 'list'], ['user', 'add', 'x'], ['service', 'list'], ['token', 'list'], ['audit', 'tail'], ['import-legacy', 'a.csv'], ['backup', 'b.sqlite']]) {
      const r = runCli(args, {}, undefined, cwd);
      expect([args, r.status, r.stderr.startsWith(expected) || r.stderr]).toEqual([args, 1, true]);
    }
    expect(existsSync(path.join(cwd, 'data'))).toBe(false);
    expect(runCli(['migrate'], {}, undefined, cwd).status).toBe(0);
    expect(existsSync(path.join(cwd, 'data', 'portcullis.sqlite'))).toBe(true);
  });

  it('refuses a backup into a directory that does not exist', () => {
    const { root, env } = freshInstall();
    const target = path.join(root, 'nonexistent', 'dir', 'b.sqlite');
    const r = runCli(['backup', target], env);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`portcullis: There is no directory ${path.dirname(target)}; create it first (backup does not create directories).\n`);
    expect(existsSync(path.join(root, 'nonexistent'))).toBe(false);
  });

  it('legacy import: the dry run predicts the rows the administrator limit refuses; both runs exit 1 with the summary', () => {
    const { root, env } = freshInstall();
    const file = csv(root, 'admins.csv', ['boss1', 'boss2', 'boss3', 'clerk'].map((name) => `${name},${md5(name)},${name === 'clerk' ? 'user' : 'admin'}`));
    const dry = runCli(['import-legacy', file, '--dry-run'], env);
    expect(dry.status).toBe(1);
    expect(dry.stdout).toContain('dry run: 4 rows read, nothing written; the import would give:\nimported: 3\n');
    expect(dry.stdout).toContain('(MaxAdministratorCount 2), not imported: 1\n  line 4 "boss3"');
    expect(runCli(['user', 'list'], env).stdout).toBe('');
    const real = runCli(['import-legacy', file], env);
    expect(real.status).toBe(1);
    expect(real.stdout).toContain('imported: 3\n');
    expect(real.stdout).toContain('not imported: 1\n  line 4 "boss3"');
    expect(runCli(['import-legacy', file], env).status).toBe(1);
    expect(runCli(['import-legacy', csv(root, 'users.csv', [`clerk,${md5('c')},user`])], env).status).toBe(0);
  });
});

describe('portcullis CLI: everyday commands (real processes)', () => {
  beforeAll(requireBuild);

  it('user show and delete; a hidden password prompt on a terminal', async () => {
    const { env } = freshInstall();
    expect(runCli(['user', 'add', 'bob', '--password-stdin'], env, 'Kiwi-Secret-42\n').status).toBe(0);
    const shown = runCli(['user', 'show', 'BOB'], env);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/^username: bob\n/m);
    expect(shown.stdout).toMatch(/^role: user\n/m);
    expect(shown.stdout).toMatch(/^locked: false\n/m);

    const prompt = new ServerProcess(env, ['script', '-qefc', `"${process.execPath}" "${CLI}" user passwd bob`, '/dev/null']);
    await prompt.waitFor(/New password: $/);
    prompt.child.stdin.write('Hidden-Pass-123\r');
    await prompt.waitFor(/Repeat the password: $/);
    prompt.child.stdin.write('Hidden-Pass-123\r');
    expect(await prompt.exited).toBe(0);
    expect(prompt.output.join('\n')).toContain('password changed for bob');
    expect(prompt.output.join('\n')).not.toContain('Hidden-Pass');

    expect(runCli(['user', 'delete', 'bob'], env).stdout).toBe('deleted bob\n');
    const gone = runCli(['user', 'show', 'bob'], env);
    expect([gone.status, gone.stderr]).toEqual([1, 'portcullis: No account named "bob".\n']);
  });

  it('token list and revoke, audit tail and --follow, the version in the banner', async () => {
    const { root, env } = freshInstall();
    expect(runCli(['user', 'add', 'carol', '--password-stdin'], env, 'Tangerine-Pass-42\n').status).toBe(0);
    const server = new ServerProcess({ ...env, PORTCULLIS_PORT: '0', PORTCULLIS_HOST: '127.0.0.1' });
    const follow = new ServerProcess(env, [process.execPath, CLI, 'audit', 'tail', '--follow', '-n', '1']);
    try {
      const [, port] = await server.waitFor(/listening on https:\/\/127\.0\.0\.1:(\d+)/);
      await server.waitFor(new RegExp(`^  version: ${VERSION.replace(/\./g, '\\.')} \\(Node\\.js `));
      const cert = readFileSync(path.join(root, 'data', 'tls', 'self-signed-cert.pem'), 'utf8');
      const api = () => request(`https://127.0.0.1:${port}`);
      const issued = await api().post('/api/v1/tokens').ca(cert).send({ username: 'carol', password: 'Tangerine-Pass-42' });
      expect(issued.status).toBe(201);
      const listed = runCli(['token', 'list'], env).stdout;
      expect(listed).toMatch(new RegExp(`^${issued.body.id}\tcarol\tscope=full\t`, 'm'));
      expect(runCli(['token', 'revoke', issued.body.id], env).stdout).toBe(`revoked token ${issued.body.id} of carol\n`);
      expect((await api().get('/api/v1/me').ca(cert).set('Authorization', `Bearer ${issued.body.token}`)).status).toBe(401);
      expect(runCli(['token', 'revoke', issued.body.id], env).status).toBe(1);

      const tail = runCli(['audit', 'tail', '-n', '2'], env).stdout.trimEnd().split('\n');
      expect(tail[0]).toMatch(/\ttoken_issued\tsuccess\tcarol\t/);
      expect(tail[1]).toMatch(/\ttoken_revoked\tsuccess\tcarol\tactor=cli\t/);
      await follow.waitFor(/\ttoken_revoked\t/);
      expect(runCli(['user', 'add', 'dave'], env).status).toBe(0);
      await follow.waitFor(/\taccount_created\tsuccess\tdave\tactor=cli/);
    } finally {
      await follow.stop();
      await server.stop();
    }
  });
});
