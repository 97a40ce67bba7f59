import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO, requireBuild } from '../support/process';

/**
 * `npm run bench` on a fresh machine (no test servers): the suites that need
 * slapd or PostgreSQL are skipped up front with the command that enables
 * them, instead of failing after minutes of other work.
 */
const BENCH = path.join(REPO, 'dist', 'bench', 'main.js');

function bench(args: string[]) {
  const r = spawnSync(process.execPath, [BENCH, ...args], {
    env: { PATH: process.env.PATH, PORTCULLIS_TEST_ENV_JSON: path.join(REPO, 'no-such-dir', 'env.json') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run bench without the test servers', () => {
  beforeAll(requireBuild);

  it('skips the LDAP suite with the command that enables it, and exits 0', () => {
    const r = bench(['--only', 'ldap', '--json']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('ldap: skipped, it needs the local OpenLDAP slapd; start the test servers once with `sudo bash scripts/test-servers/up.sh`');
    expect(JSON.parse(r.stdout)).toEqual({ figures: [], skipped: [expect.stringMatching(/^ldap: skipped/)] });
  });

  it('skips the PostgreSQL suite unless DATABASE_URL is set', () => {
    const r = bench(['--db', 'postgres', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).skipped).toEqual([expect.stringMatching(/^postgres: skipped, it needs a PostgreSQL database; .*\(or set DATABASE_URL\)/)]);
  });

  it('refuses an unknown suite name instead of running nothing', () => {
    const r = bench(['--only', 'ldpa']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unknown suite "ldpa"');
  });
});
