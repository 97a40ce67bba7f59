import { UnavailableError } from '../../shared/errors';
import type { Deadline } from './deadline';
import { type DirectoryEndpoint, LdapConnection } from './ldap-connection';

/**
 * A small pool of LDAP connections used one caller at a time (an LDAP bind
 * changes the connection's identity, so a connection is never shared by two
 * operations at once). Connections are reused until the server closes them;
 * a dead connection is dropped and replaced on the next acquire, so a
 * directory that comes back after an outage is used again without a restart.
 * Every wait, connect and operation of one `use` is bounded by the caller's
 * deadline: a waiter woken by a failed connection opens a new one only with
 * the time its login has left.
 */
export class LdapPool {
  private readonly idle: LdapConnection[] = [];
  private readonly waiters: (() => void)[] = [];
  private opened = 0;
  private closed = false;

  constructor(
    private readonly endpoint: DirectoryEndpoint,
    private readonly size: number,
    /** Runs on every new connection before first use (e.g. the service-account bind). */
    private readonly prepare: (connection: LdapConnection, deadline: Deadline) => Promise<void> = async () => undefined,
  ) {}

  /** Runs `work` on a pooled connection within `deadline`; a connection that failed is discarded, not returned. */
  async use<T>(work: (connection: LdapConnection) => Promise<T>, deadline: Deadline): Promise<T> {
    const connection = await this.acquire(deadline);
    connection.useDeadline(deadline);
    try {
      return await work(connection);
    } finally {
      connection.useDeadline(null);
      this.release(connection);
    }
  }

  private async acquire(deadline: Deadline): Promise<LdapConnection> {
    for (;;) {
      if (this.closed) throw new UnavailableError('directory', `directory "${this.endpoint.label}" client is shut down`);
      const reusable = this.takeIdle();
      if (reusable) return reusable;
      if (this.opened < this.size) {
        this.opened++;
        try {
          const connection = await LdapConnection.open(this.endpoint, deadline);
          try {
            connection.useDeadline(deadline);
            await this.prepare(connection, deadline);
          } catch (error) {
            connection.close();
            throw error;
          }
          return connection;
        } catch (error) {
          this.opened--;
          this.wakeOne();
          throw error;
        }
      }
      const remaining = deadline.remainingMs();
      // Not a DirectoryTimeout: a busy pool is local congestion, not evidence that the directory is down.
      if (remaining <= 0) throw new UnavailableError('directory', `directory "${this.endpoint.label}": all ${this.size} connections stayed busy until the login's deadline of ${deadline.budgetMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          const index = this.waiters.indexOf(wake);
          if (index >= 0) this.waiters.splice(index, 1);
          resolve();
        }, remaining);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.waiters.push(wake);
      });
    }
  }

  private takeIdle(): LdapConnection | undefined {
    while (this.idle.length > 0) {
      const connection = this.idle.pop() as LdapConnection;
      if (connection.alive) return connection;
      this.opened--;
    }
    return undefined;
  }

  private release(connection: LdapConnection): void {
    if (connection.alive && !this.closed) this.idle.push(connection);
    else {
      this.opened--;
      connection.close();
    }
    this.wakeOne();
  }

  private wakeOne(): void {
    this.waiters.shift()?.();
  }

  /** Connections currently open (idle or in use). */
  get openConnections(): number {
    return this.opened;
  }

  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.close();
    for (const wake of this.waiters.splice(0)) wake();
  }
}
