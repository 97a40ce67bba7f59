import { existsSync, readFileSync } from 'node:fs';
import { readSecretFile } from '../../config/load';
import type { AttributeMapping, DirectoryConnectionConfig } from '../../config/backends-schema';
import { ConfigError, UnavailableError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { Role } from '../../accounts/account';
import type { Principal } from '../backend';
import { CircuitBreaker } from './circuit-breaker';
import { Deadline } from './deadline';
import { type BindOutcome, type DirectoryEndpoint, type DirectoryEntry, LdapConnection, type SearchOptions } from './ldap-connection';
import { LdapPool } from './ldap-pool';

/**
 * A configured directory: where it is, how it is secured, and two pools —
 * service-account connections for searches (bound once, reused) and
 * connections for user binds. Shared by the LDAP backend and the Windows
 * backend's Active Directory lookup.
 *
 * Each call runs within a deadline (`loginDeadlineSeconds`, default connect +
 * operation timeout): pass one `Deadline` from `newDeadline()` to every call
 * of a login to bound the login as a whole. A circuit breaker makes calls
 * fail at once while the directory is known to be down (see CircuitBreaker).
 */
export class LdapDirectory {
  readonly endpoint: DirectoryEndpoint;
  private readonly searchPool: LdapPool | null;
  private readonly bindPool: LdapPool;
  private readonly loginDeadlineMs: number;
  private readonly breaker: CircuitBreaker;

  constructor(
    readonly label: string,
    config: DirectoryConnectionConfig,
    env: NodeJS.ProcessEnv,
    logger: Logger,
    /** Config path for error messages, e.g. "authentication.backends.1". */
    configPath: string,
  ) {
    this.endpoint = {
      label,
      urls: config.url,
      startTls: config.startTls,
      ca: config.caFile ? readConfigFile(config.caFile, `${configPath}.caFile`) : undefined,
      tlsServerName: config.tlsServerName,
      connectTimeoutMs: Math.round(config.connectTimeoutSeconds * 1000),
      operationTimeoutMs: Math.round(config.operationTimeoutSeconds * 1000),
    };
    this.loginDeadlineMs = Math.round((config.loginDeadlineSeconds ?? config.connectTimeoutSeconds + config.operationTimeoutSeconds) * 1000);
    this.breaker = new CircuitBreaker(label, { failures: config.breakerFailures, coolDownMs: Math.round(config.breakerCooldownSeconds * 1000) });
    const insecure = config.url.filter((u) => u.toLowerCase().startsWith('ldap:')).length > 0 && !config.startTls;
    if (insecure) {
      // Every start, on purpose: this must not become a forgotten test setting.
      logger.warn({ event: 'ldap_insecure', backend: label, urls: config.url }, `directory "${label}" uses plain ldap:// without TLS (allowInsecure: true): passwords cross the network unencrypted`);
    }
    const account = config.serviceAccount;
    if (account) {
      const password = readSecret(account, env, `${configPath}.serviceAccount`);
      this.searchPool = new LdapPool(this.endpoint, config.poolSize, async (connection) => {
        const outcome = await connection.bind(account.dn, password);
        if (!outcome.ok) {
          logger.error({ event: 'ldap_service_bind_refused', backend: label, dn: account.dn, resultCode: outcome.resultCode }, `directory "${label}" refused the service account ${account.dn}`);
          connection.close();
          throw new UnavailableError('directory', `directory "${label}" refused the service account bind (${outcome.message})`);
        }
      });
    } else {
      this.searchPool = null;
    }
    this.bindPool = new LdapPool(this.endpoint, config.poolSize);
  }

  get hasServiceAccount(): boolean {
    return this.searchPool !== null;
  }

  /** A fresh deadline for one login (pass it to each call the login makes). */
  newDeadline(): Deadline {
    return new Deadline(this.loginDeadlineMs);
  }

  /** Searches with the service account. */
  search(base: string, options: SearchOptions, deadline: Deadline = this.newDeadline()): Promise<DirectoryEntry[]> {
    const pool = this.searchPool;
    if (!pool) throw new Error(`directory "${this.label}" has no service account for searches`);
    return this.breaker.run(() => pool.use((connection) => connection.search(base, options), deadline));
  }

  /**
   * Binds as a user with `name` exactly as given (a DN as the directory
   * returned it, or a UPN) on a pooled bind connection; on success `after`
   * runs on the same connection while it is still bound as that user.
   */
  async bindAs<T>(
    name: string,
    password: string,
    after: (connection: LdapConnection) => Promise<T>,
    deadline: Deadline = this.newDeadline(),
  ): Promise<{ ok: true; value: T } | Exclude<BindOutcome, { ok: true }>> {
    return this.breaker.run(() =>
      this.bindPool.use(async (connection) => {
        const outcome = await connection.bind(name, password);
        if (!outcome.ok) return outcome;
        return { ok: true as const, value: await after(connection) };
      }, deadline),
    );
  }

  /** Opens (and closes) a connection, binding the service account if there is one: the startup probe. */
  async probe(): Promise<void> {
    const deadline = this.newDeadline();
    await this.breaker.run(async () => {
      if (this.searchPool) await this.searchPool.use(async () => undefined, deadline);
      else (await LdapConnection.open(this.endpoint, deadline)).close();
    });
  }

  close(): void {
    this.searchPool?.close();
    this.bindPool.close();
  }
}

function readConfigFile(file: string, key: string): Buffer {
  if (!existsSync(file)) throw new ConfigError([`config: ${key}: file not found: ${file}`]);
  return readFileSync(file);
}

function readSecret(source: { passwordEnv?: string; passwordFile?: string }, env: NodeJS.ProcessEnv, key: string): string {
  if (source.passwordEnv !== undefined) {
    const value = env[source.passwordEnv];
    if (value === undefined || value === '') throw new ConfigError([`config: ${key}.passwordEnv: environment variable ${source.passwordEnv} is not set`]);
    return value;
  }
  const file = source.passwordFile as string;
  if (!existsSync(file)) throw new ConfigError([`config: ${key}.passwordFile: file not found: ${file}`]);
  const value = readSecretFile(file);
  if (value === '') throw new ConfigError([`config: ${key}.passwordFile: ${file} is empty`]);
  return value;
}

/** DNs compare case-insensitively and ignore spaces around separators. */
export function normalizeDn(dn: string): string {
  return dn.trim().replace(/\s*([,=+])\s*/g, '$1').toLowerCase();
}

export interface MappedDetails {
  displayName?: string;
  email?: string;
  attributes: Record<string, string[]>;
  directoryRole?: Role;
}

/** The attribute names a search must ask for to fill `mapDirectoryEntry`. */
export function requestedAttributes(mapping: AttributeMapping): string[] {
  return [...new Set([mapping.displayName, mapping.mail, mapping.groups, ...mapping.release])];
}

/**
 * Directory entry → the principal's details. Groups come from the mapped
 * attribute (memberOf) plus any found by a group search. When `groupRoles`
 * is configured the directory decides the role: a member of an admin group
 * asks for `admin` (the administrator limit still applies), anyone else is `user`.
 */
export function mapDirectoryEntry(entry: DirectoryEntry, mapping: AttributeMapping, groupRoles: Record<string, Role>, searchedGroups: string[] = []): MappedDetails {
  const values = (name: string) => entry.attributes.get(name.toLowerCase()) ?? [];
  const groups = [...new Set([...values(mapping.groups), ...searchedGroups])];
  const attributes: Record<string, string[]> = {};
  const put = (key: string, list: string[]) => {
    if (list.length > 0) attributes[key] = list;
  };
  put('displayName', values(mapping.displayName));
  put('mail', values(mapping.mail));
  put('memberOf', groups);
  for (const name of mapping.release) put(name, values(name));

  let directoryRole: Role | undefined;
  const roleEntries = Object.entries(groupRoles);
  if (roleEntries.length > 0) {
    const memberOf = new Set(groups.map(normalizeDn));
    const granted = roleEntries.filter(([group]) => memberOf.has(normalizeDn(group))).map(([, role]) => role);
    directoryRole = granted.includes('admin') ? 'admin' : 'user';
  }
  return {
    displayName: values(mapping.displayName)[0],
    email: values(mapping.mail)[0],
    attributes,
    ...(directoryRole ? { directoryRole } : {}),
  };
}

/** Builds the principal for a directory user. */
export function directoryPrincipal(username: string, source: string, dn: string | undefined, details: MappedDetails): Principal {
  return {
    username,
    source,
    ...(dn ? { externalId: dn } : {}),
    ...(details.displayName ? { displayName: details.displayName } : {}),
    ...(details.email ? { email: details.email } : {}),
    attributes: details.attributes,
    ...(details.directoryRole ? { directoryRole: details.directoryRole } : {}),
  };
}
