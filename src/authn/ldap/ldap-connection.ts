import { isIP } from 'node:net';
import tls from 'node:tls';
import ldap from 'ldapjs';
import './ldapjs-diagnostics';
import { UnavailableError } from '../../shared/errors';

/**
 * One LDAP connection with promise-returning operations, explicit timeouts
 * and a single error taxonomy:
 *  - the server answered "no" to a bind → `BindRefused` (a result, not an error);
 *  - anything that means the directory could not be asked (refused
 *    connection, timeout, TLS failure, closed socket, unexpected result) →
 *    UnavailableError, and the connection is dead.
 */

export interface DirectoryEndpoint {
  /** Backend name, for messages ("ldap", "corp-ldap"). */
  label: string;
  urls: string[];
  startTls: boolean;
  /** PEM CA bundle; undefined = Node's built-in roots. */
  ca?: Buffer;
  tlsServerName?: string;
  connectTimeoutMs: number;
  operationTimeoutMs: number;
}

export interface DirectoryEntry {
  dn: string;
  /** Attribute values by lower-cased attribute name. */
  attributes: Map<string, string[]>;
}

export interface BindRefused {
  ok: false;
  /** LDAP result code (49 invalid credentials, 53 unwilling to perform...). */
  resultCode: number;
  /** Active Directory's sub-code from "... data 52e, ..." (lower case hex), if present. */
  adDataCode?: string;
  message: string;
}

export type BindOutcome = { ok: true } | BindRefused;

export interface SearchOptions {
  scope: 'base' | 'one' | 'sub';
  filter: ldap.Filter | string;
  attributes: string[];
  sizeLimit?: number;
}

/** Result codes for which a bind answer is about the credentials, not about the directory. */
const CREDENTIAL_RESULT_CODES = new Set([
  49, // invalidCredentials (AD adds a sub-code)
  50, // insufficientAccessRights (e.g. account not allowed to bind)
  53, // unwillingToPerform (e.g. ppolicy lock, AD "must change" on some versions)
]);

export function tlsOptionsFor(endpoint: DirectoryEndpoint, host: string): tls.ConnectionOptions {
  const name = endpoint.tlsServerName ?? host;
  return {
    ...(endpoint.ca ? { ca: [endpoint.ca] } : {}),
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    // SNI must not be an IP address (RFC 6066); identity is still checked against it below.
    ...(isIP(name) ? {} : { servername: name }),
    host,
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
  };
}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e?.code && !String(e.message).includes(e.code) ? `${e.code}: ${e.message}` : String(e?.message ?? error);
}

export class LdapConnection {
  private dead = false;
  private deathReason = 'closed';

  private constructor(
    private readonly client: ldap.Client,
    private readonly endpoint: DirectoryEndpoint,
    readonly url: string,
  ) {
    client.on('error', (error: unknown) => this.markDead(describe(error)));
    client.on('close', () => this.markDead('connection closed'));
    client.on('end', () => this.markDead('connection ended by the server'));
  }

  /** Connects to the first URL that answers (secured as configured); UnavailableError if none does. */
  static async open(endpoint: DirectoryEndpoint): Promise<LdapConnection> {
    const failures: string[] = [];
    for (const url of endpoint.urls) {
      try {
        return await LdapConnection.openOne(endpoint, url);
      } catch (error) {
        failures.push(`${url}: ${describe(error)}`);
      }
    }
    throw new UnavailableError('directory', `directory "${endpoint.label}" unreachable (${failures.join('; ')})`);
  }

  private static openOne(endpoint: DirectoryEndpoint, url: string): Promise<LdapConnection> {
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    const secure = url.toLowerCase().startsWith('ldaps:');
    const client = ldap.createClient({
      url,
      ...(secure ? { tlsOptions: tlsOptionsFor(endpoint, host) } : {}),
      connectTimeout: endpoint.connectTimeoutMs,
      timeout: endpoint.operationTimeoutMs,
      // Fail fast when not connected instead of queueing requests forever.
      queueDisable: true,
    });
    return new Promise<LdapConnection>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.removeAllListeners();
        client.on('error', () => undefined);
        client.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`no connection within ${endpoint.connectTimeoutMs} ms`)), endpoint.connectTimeoutMs + 50);
      for (const event of ['error', 'connectError', 'connectRefused', 'connectTimeout', 'setupError']) client.once(event, fail);
      client.once('connect', () => {
        const ready = () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          client.removeAllListeners();
          resolve(new LdapConnection(client, endpoint, url));
        };
        if (!endpoint.startTls) return ready();
        client.starttls(tlsOptionsFor(endpoint, host), [], (error: Error | null) => (error ? fail(new Error(`StartTLS failed: ${describe(error)}`)) : ready()));
      });
    });
  }

  get alive(): boolean {
    return !this.dead;
  }

  private markDead(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.deathReason = reason;
  }

  private unavailable(operation: string, error: unknown): UnavailableError {
    this.markDead(describe(error));
    this.client.destroy();
    return new UnavailableError('directory', `directory "${this.endpoint.label}" failed during ${operation} (${this.url}): ${describe(error)}`, { cause: error });
  }

  /** Runs one callback-style ldapjs operation with our own deadline on top of ldapjs's. */
  private run<T>(operation: string, start: (done: (error: Error | null, value?: T) => void) => void): Promise<T> {
    if (this.dead) return Promise.reject(new UnavailableError('directory', `directory "${this.endpoint.label}" connection lost (${this.deathReason})`));
    return new Promise<T>((resolve, reject) => {
      let finished = false;
      const timer = setTimeout(() => {
        if (finished) return;
        finished = true;
        reject(this.unavailable(operation, new Error(`no answer within ${this.endpoint.operationTimeoutMs} ms`)));
      }, this.endpoint.operationTimeoutMs + 100);
      start((error, value) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(value as T);
      });
    });
  }

  /** Simple bind. The caller must never pass an empty password (that is an anonymous bind). */
  async bind(name: string, password: string): Promise<BindOutcome> {
    if (password.length === 0) throw new Error('refusing an LDAP bind with an empty password (it would be anonymous)');
    try {
      await this.run<void>('bind', (done) => this.client.bind(name, password, (error) => done(error)));
      return { ok: true };
    } catch (error) {
      if (error instanceof UnavailableError) throw error;
      // ldapjs result errors carry the LDAP result code (its typings omit the common LDAPError base).
      const { code, message } = error as { code?: unknown; message?: string };
      if (typeof code === 'number' && CREDENTIAL_RESULT_CODES.has(code) && (error as { lde_message?: unknown }).lde_message !== undefined) {
        const text = String(message ?? '');
        const adDataCode = /\bdata ([0-9a-f]{3,8})\b/i.exec(text)?.[1]?.toLowerCase();
        return { ok: false, resultCode: code, message: text, ...(adDataCode ? { adDataCode } : {}) };
      }
      throw this.unavailable('bind', error);
    }
  }

  async search(base: string, options: SearchOptions): Promise<DirectoryEntry[]> {
    try {
      return await this.run<DirectoryEntry[]>('search', (done) => {
        this.client.search(
          base,
          { scope: options.scope, filter: options.filter, attributes: options.attributes, sizeLimit: options.sizeLimit ?? 0 },
          (startError, response) => {
            if (startError) return done(startError);
            const entries: DirectoryEntry[] = [];
            response.on('searchEntry', (entry: ldap.SearchEntry) => entries.push(toDirectoryEntry(entry)));
            response.on('error', (error: Error) => {
              // No such base, or more matches than asked for: answers, not outages.
              if (error instanceof ldap.NoSuchObjectError) done(null, []);
              else if (error instanceof ldap.SizeLimitExceededError) done(null, entries);
              else done(error);
            });
            response.on('end', () => done(null, entries));
          },
        );
      });
    } catch (error) {
      if (error instanceof UnavailableError) throw error;
      throw this.unavailable('search', error);
    }
  }

  close(): void {
    this.markDead('closed by Portcullis');
    this.client.unbind(() => undefined);
    this.client.destroy();
  }
}

/** ldapjs 3 entries expose `pojo` ({ objectName, attributes: [{ type, values }] }); its typings predate it. */
interface EntryPojo {
  objectName: string;
  attributes: { type: string; values: string[] }[];
}

function toDirectoryEntry(entry: ldap.SearchEntry): DirectoryEntry {
  const pojo = (entry as unknown as { pojo: EntryPojo }).pojo;
  const attributes = new Map<string, string[]>();
  for (const attribute of pojo.attributes) attributes.set(attribute.type.toLowerCase(), attribute.values.map(String));
  return { dn: pojo.objectName, attributes };
}
