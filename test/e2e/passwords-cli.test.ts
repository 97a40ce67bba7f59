import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ServerProcess, requireBuild, runCli } from '../support/process';

describe('portcullis passwords import-breached (real processes)', () => {
  beforeAll(requireBuild);
  const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-breached-'));
  const configDir = path.join(root, 'config');
  const dataDir = path.join(root, 'data');
  mkdirSync(configDir);
  mkdirSync(dataDir);
  const env = { PORTCULLIS_PORT: '0', PORTCULLIS_HOST: '127.0.0.1', PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_CONFIG_DIR: configDir };
  const filterFile = path.join(dataDir, 'breached-passwords.filter');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const list = (name: string, lines: string[]) => {
    const file = path.join(root, name);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };

  it('imports, is checked by the CLI, shown by config check, reloaded on SIGHUP, and a corrupt file stops start-up', async () => {
    const leaked = Array.from({ length: 1000 }, (_, i) => `Leaked-Orchard-${i}-Sail`);
    const imported = runCli(['passwords', 'import-breached', list('leaks.txt', leaked)], env);
    expect(imported.stderr).toBe('');
    expect(imported.status).toBe(0);
    expect(imported.stdout).toContain(`wrote ${filterFile}`);
    expect(imported.stdout).toMatch(/entries: 1000 \(of 1000 lines\)/);
    expect(imported.stdout).toMatch(/false positives: [\d.]+% measured on 100,000 random strings \(sized for 0\.100%\)/);

    const check = runCli(['config', 'check'], env);
    expect(check.status).toBe(0);
    expect(JSON.parse(check.stdout.slice(check.stdout.indexOf('{'))).breachedFilter).toMatchObject({ file: filterFile, source: 'leaks.txt (plain passwords)', entries: 1000 });

    expect(runCli(['migrate'], env).status).toBe(0);
    const refused = runCli(['user', 'add', 'bob', '--password-stdin'], env, 'Leaked-Orchard-7-Sail\n');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe('portcullis: The password has appeared in a data breach.\n');

    const server = new ServerProcess(env);
    try {
      await server.waitFor(/breached-password filter: .* 1000 entries from leaks\.txt \(plain passwords\)/);
      expect(runCli(['passwords', 'import-breached', list('few.txt', ['a1', 'b2', 'c3'])], env).status).toBe(0);
      server.child.kill('SIGHUP');
      await server.waitFor(/"event":"breached_filter_reloaded".*"entries":3/);
    } finally {
      await server.stop('SIGTERM');
    }

    const whole = readFileSync(filterFile);
    writeFileSync(filterFile, whole.subarray(0, whole.length - 10));
    const broken = new ServerProcess(env);
    expect(await broken.exited).toBe(1);
    expect(broken.output.join('\n')).toContain(`portcullis: error: breached-password filter ${filterFile}: truncated or padded`);
  }, 120_000);

  it('refuses bad usage with one line, the usage after it, and exit 2', () => {
    for (const args of [[], ['x', 'y'], ['f', '--top', '0'], ['f', '--fp-rate', '2'], ['f', '--frobnicate']]) {
      const r = runCli(['passwords', 'import-breached', ...args], env);
      expect(r.status).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(/^portcullis: \S/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    const missing = runCli(['passwords', 'import-breached', path.join(root, 'nope.txt')], env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`portcullis: ${path.join(root, 'nope.txt')}: no such file\n`);
  });
});
