import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The real directory servers started by scripts/test-servers/up.sh, as
 * described in .test-env/env.json. Missing servers are an error, never a skip.
 */

const REPO = path.resolve(__dirname, '../..');

export interface LdapUser {
  uid: string;
  password: string;
  dn: string;
  cn: string;
  mail: string;
  groups?: string[];
}

export interface AdUser {
  sAMAccountName: string;
  upn: string;
  password: string;
  dn: string;
  groups?: string[];
}

export interface DirectoryEnv {
  stateDir: string;
  ldap: {
    url: string;
    ldapsUrl: string;
    caFile: string;
    wrongCaFile: string;
    baseDn: string;
    peopleDn: string;
    groupsDn: string;
    serviceDn: string;
    servicePassword: string;
    /** The directory manager (rootdn), for tests that add and remove their own entries. */
    adminDn: string;
    adminPassword: string;
    adminGroupDn: string;
    staffGroupDn: string;
    users: Record<string, LdapUser>;
    logFile: string;
  };
  ad: {
    ldapsUrl: string;
    ldapUrl: string;
    caFile: string;
    baseDn: string;
    usersDn: string;
    realm: string;
    domain: string;
    bindUpn: string;
    bindPassword: string;
    /** The domain administrator (tests that add their own AD entries). */
    adminUpn: string;
    adminPassword: string;
    adminGroupDn: string;
    appUsersGroupDn: string;
    krb5Conf: string;
    keytab: string;
    servicePrincipal: string;
    users: Record<string, AdUser>;
  };
  mitKdc: {
    realm: string;
    krb5Conf: string;
    keytab: string;
    servicePrincipal: string;
    users: Record<string, { principal: string; password: string }>;
  };
}

export function directoryEnvFile(): string {
  if (process.env.PORTCULLIS_TEST_ENV_JSON) return process.env.PORTCULLIS_TEST_ENV_JSON;
  return path.join(process.env.PORTCULLIS_TEST_ENV_DIR ?? path.join(REPO, '.test-env'), 'env.json');
}

let cached: DirectoryEnv | null = null;

/** Reads env.json; throws (failing the test file) when the servers were not started. */
export function directoryEnv(): DirectoryEnv {
  if (cached) return cached;
  const file = directoryEnvFile();
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: the directory test servers are not running. Run scripts/test-servers/up.sh (as root) first; these tests never skip.`);
  }
  cached = JSON.parse(readFileSync(file, 'utf8')) as DirectoryEnv;
  return cached;
}

/** Runs one of scripts/test-servers/*.sh (e.g. stop-ldap.sh / start-ldap.sh). */
export function testServerScript(name: string): void {
  execFileSync('bash', [path.join(REPO, 'scripts/test-servers', name)], { stdio: 'pipe', timeout: 60_000, env: { ...process.env, PORTCULLIS_TEST_ENV_DIR: path.dirname(directoryEnvFile()) } });
}

/**
 * Reads slapd's "stats" log (loglevel stats), so a test can prove what did
 * or did not reach the directory. `mark()` remembers the current end;
 * `since()` returns the lines written after it.
 */
export class SlapdLog {
  private offset = 0;

  constructor(private readonly file: string) {}

  /** Remembers the end of the log (after letting slapd finish writing earlier lines). */
  async mark(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 200));
    this.offset = existsSync(this.file) ? readFileSync(this.file).length : 0;
  }

  /** Lines written since mark(), after giving slapd a moment to write them. */
  async since(): Promise<string[]> {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return readFileSync(this.file).subarray(this.offset).toString('utf8').split('\n').filter(Boolean);
  }

  /** BIND lines for a DN written since mark(). */
  async bindsFor(dn: string): Promise<string[]> {
    const needle = `bind dn="${dn.toLowerCase()}"`;
    return (await this.since()).filter((line) => line.toLowerCase().includes(needle));
  }

  async searchesMatching(fragment: string): Promise<string[]> {
    return (await this.since()).filter((line) => line.includes('SRCH') && line.includes(fragment));
  }
}
