import net from 'node:net';
import tls from 'node:tls';
import { Client, type DN, type Filter, NoSuchObjectError, ResultCodeError } from 'ldapts';
import { UnavailableError } from '../../shared/errors';
import { type Deadline, DirectoryTimeout } from './deadline';

/**
 * One LDAP connection (ldapts) with explicit time limits and one error taxonomy:
 *  - the server answered a bind with an LDAP result other than success →
 *    `BindRefused` (a result about this attempt, not an error), except
 *    busy (51) and unavailable (52), which mean the directory cannot answer;
 *  - the directory could not be asked (refused connection, TLS failure,
 *    closed socket, no answer in time) → UnavailableError (DirectoryTimeout
 *    for timeouts), and the connection is dead.
 * Names (bind DNs, search bases) are sent exactly as given: DNs the directory
 * returned are never parsed and re-serialised, so their escapes survive.
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
  /** The DN exactly as the directory sent it. */
  dn: string;
  /** Attribute values by lower-cased attribute name. */
  attributes: Map<string, string[]>;
}

export interface BindRefused {
  ok: false;
  /** LDAP result code (49 invalid credentials, 34 invalid DN syntax, 53 unwilling to perform...). */
  resultCode: number;
  /** The result's name, e.g. "invalidCredentials", "invalidDNSyntax". */
  resultName: string;
  /** Active Directory's sub-code from "... data 52e, ..." (lower case hex), if present. */
  adDataCode?: string;
  /** The server's diagnostic message. */
  message: string;
}

export type BindOutcome = { ok: true } | BindRefused;

export interface SearchOptions {
  scope: 'base' | 'one' | 'sub';
  filter: Filter | string;
  attributes: string[];
  sizeLimit?: number;
}

/** Results by which the server says it cannot answer now: about the directory, not the attempt. */
const DIRECTORY_DOWN_RESULTS = new Set([51 /* busy */, 52 /* unavailable */]);

export function tlsOptionsFor(endpoint: DirectoryEndpoint, host: string): tls.ConnectionOptions {
  const name = endpoint.tlsServerName ?? host;
  return {
    ...(endpoint.ca ? { ca: [endpoint.ca] } : {}),
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    // SNI must not be an IP address (RFC 6066); identity is still checked against it below.
    ...(net.isIP(name) ? {} : { servername: name }),
    host,
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
  };
}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e?.code && !String(e.message).includes(e.code) ? `${e.code}: ${e.message}` : String(e?.message ?? error);
}

/** "InvalidDNSyntaxError" → "invalidDNSyntax"; the server's text without ldapts' " Code: 0x22" suffix. */
function resultOf(error: ResultCodeError): { code: number; name: string; message: string } {
  const base = error.name.replace(/Error$/, '');
  const name = base === 'UnknownStatusCode' || base === 'ResultCode' ? `result${error.code}` : base.charAt(0).toLowerCase() + base.slice(1);
  return { code: error.code, name, message: error.message.replace(/\s*Code: 0x[0-9a-f]+$/i, '') };
}

/** Races `work` against `ms`; on time-out runs `onTimeout` (which must stop the work) and rejects with a DirectoryTimeout. */
function within<T>(work: Promise<T>, ms: number, timeoutError: () => DirectoryTimeout, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(timeoutError());
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export class LdapConnection {
  private dead = false;
  private deathReason = 'closed';
  /** The deadline of the login currently using this connection (set by the pool). */
  private deadline: Deadline | null = null;

  private constructor(
    private readonly client: Client,
    private readonly socket: net.Socket,
    private readonly endpoint: DirectoryEndpoint,
    readonly url: string,
  ) {
    socket.once('close', () => this.markDead('connection closed'));
  }

  /** Connects to the first URL that answers (secured as configured); UnavailableError if none does. */
  static async open(endpoint: DirectoryEndpoint, deadline?: Deadline): Promise<LdapConnection> {
    const failures: string[] = [];
    let timedOut = false;
    for (const url of endpoint.urls) {
      if (deadline && deadline.remainingMs() <= 0) break;
      try {
        return await LdapConnection.openOne(endpoint, url, deadline);
      } catch (error) {
        timedOut ||= error instanceof DirectoryTimeout;
        failures.push(`${url}: ${describe(error)}`);
      }
    }
    if (failures.length === 0 && deadline) throw deadline.exceeded(endpoint.label, 'before connecting');
    const message = `directory "${endpoint.label}" unreachable (${failures.join('; ')})`;
    throw timedOut ? new DirectoryTimeout('directory', message) : new UnavailableError('directory', message);
  }

  private static async openOne(endpoint: DirectoryEndpoint, url: string, deadline?: Deadline): Promise<LdapConnection> {
    const parsed = new URL(url);
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    const secure = parsed.protocol.toLowerCase() === 'ldaps:';
    const port = Number(parsed.port) || (secure ? 636 : 389);
    const limit = deadline ? deadline.cap(endpoint.connectTimeoutMs) : endpoint.connectTimeoutMs;
    const socket = secure ? tls.connect({ ...tlsOptionsFor(endpoint, host), port }) : net.connect({ host, port });
    const connected = new Promise<void>((resolve, reject) => {
      socket.once(secure ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const timeoutError = () => new DirectoryTimeout('directory', `no connection within ${limit} ms`);
    await within(connected, limit, timeoutError, () => socket.destroy());
    // The client gets this one socket; it must never reconnect on its own (it would come back unauthenticated).
    let handedOver = false;
    const once = (): net.Socket => {
      if (handedOver) throw new Error('connection lost');
      handedOver = true;
      return socket;
    };
    // ldapts calls the factory with (port, host, options); ours ignores them and hands over the connected socket.
    const factory = secure ? { createSecureConnection: once as unknown as typeof tls.connect } : { createConnection: once as unknown as typeof net.connect };
    const client = new Client({ url, ...factory });
    const connection = new LdapConnection(client, socket, endpoint, url);
    if (endpoint.startTls) {
      const upgraded = client.startTLS(tlsOptionsFor(endpoint, host)).catch((error: unknown) => {
        throw new Error(`StartTLS failed: ${describe(error)}`);
      });
      await within(upgraded, deadline ? deadline.cap(endpoint.connectTimeoutMs) : endpoint.connectTimeoutMs, timeoutError, () => connection.destroy('StartTLS timed out'));
    }
    return connection;
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** The pool sets the deadline of the login that is using the connection. */
  useDeadline(deadline: Deadline | null): void {
    this.deadline = deadline;
  }

  private markDead(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.deathReason = reason;
  }

  private destroy(reason: string): void {
    this.markDead(reason);
    this.socket.destroy();
  }

  private unavailable(operation: string, error: unknown): UnavailableError {
    this.destroy(describe(error));
    const message = `directory "${this.endpoint.label}" failed during ${operation} (${this.url}): ${describe(error)}`;
    return error instanceof DirectoryTimeout ? new DirectoryTimeout('directory', message, { cause: error }) : new UnavailableError('directory', message, { cause: error });
  }

  /** Runs one operation within the operation timeout, cut to the login's deadline. */
  private run<T>(operation: string, start: () => Promise<T>): Promise<T> {
    if (this.dead) return Promise.reject(new UnavailableError('directory', `directory "${this.endpoint.label}" connection lost (${this.deathReason})`));
    const deadline = this.deadline;
    if (deadline && deadline.remainingMs() <= 0) return Promise.reject(deadline.exceeded(this.endpoint.label, operation));
    const limit = deadline ? deadline.cap(this.endpoint.operationTimeoutMs) : this.endpoint.operationTimeoutMs;
    const timeoutError = () => (deadline && deadline.remainingMs() <= 0 ? deadline.exceeded(this.endpoint.label, operation) : new DirectoryTimeout('directory', `no answer within ${limit} ms`));
    return within(start(), limit, timeoutError, () => this.destroy(`${operation} timed out`));
  }

  /** Simple bind with `name` sent as given. The caller must never pass an empty password (that is an anonymous bind). */
  async bind(name: string, password: string): Promise<BindOutcome> {
    if (password.length === 0) throw new Error('refusing an LDAP bind with an empty password (it would be anonymous)');
    try {
      // ldapts starts a SASL bind when given a mechanism's name as a string ("PLAIN"); an object is always sent as the name.
      const asName = { toString: () => name } as unknown as DN;
      await this.run('bind', () => this.client.bind(asName, password));
      return { ok: true };
    } catch (error) {
      if (!(error instanceof ResultCodeError)) throw this.unavailable('bind', error);
      const result = resultOf(error);
      if (DIRECTORY_DOWN_RESULTS.has(result.code)) throw new UnavailableError('directory', `directory "${this.endpoint.label}" answered the bind with LDAP result ${result.code} ${result.name}: ${result.message}`);
      const adDataCode = /\bdata ([0-9a-f]{3,8})\b/i.exec(result.message)?.[1]?.toLowerCase();
      return { ok: false, resultCode: result.code, resultName: result.name, message: result.message, ...(adDataCode ? { adDataCode } : {}) };
    }
  }

  async search(base: string, options: SearchOptions): Promise<DirectoryEntry[]> {
    try {
      const { searchEntries } = await this.run('search', () =>
        this.client.search(base, { scope: options.scope, filter: options.filter, attributes: options.attributes, sizeLimit: options.sizeLimit ?? 0 }),
      );
      return searchEntries.map(toDirectoryEntry);
    } catch (error) {
      // No such base: an answer (nobody there), not an outage.
      if (error instanceof NoSuchObjectError) return [];
      if (error instanceof ResultCodeError) {
        // The directory answered: the connection is fine, the search (base, filter, rights) is not.
        const result = resultOf(error);
        throw new UnavailableError('directory', `directory "${this.endpoint.label}" answered a search under "${base}" with LDAP result ${result.code} ${result.name}: ${result.message}`);
      }
      throw this.unavailable('search', error);
    }
  }

  close(): void {
    if (this.dead) return;
    this.markDead('closed by Portcullis');
    // unbind() sends the request and destroys the socket; errors do not matter any more.
    this.client.unbind().catch(() => undefined).finally(() => this.socket.destroy());
  }
}

type EntryValue = string | string[] | Buffer | Buffer[];

function toDirectoryEntry(entry: { dn: string } & Record<string, EntryValue>): DirectoryEntry {
  const attributes = new Map<string, string[]>();
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'dn') continue;
    const values = (Array.isArray(value) ? value : [value]).map(String);
    if (values.length > 0) attributes.set(name.toLowerCase(), values);
  }
  return { dn: entry.dn, attributes };
}
