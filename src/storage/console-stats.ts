import type { Knex } from 'knex';
import type { AuditRecord } from './audit-log';

export interface AccountBreakdown {
  role: string;
  source: string;
  enabled: boolean;
  count: number;
}

export interface HourlySignIns {
  /** Epoch ms of the hour's start. */
  hour: number;
  succeeded: number;
  failed: number;
  locked: number;
}

const HOUR_MS = 3_600_000;

/** The admin console dashboard's figures, read in a few grouped queries. */
export class ConsoleStats {
  constructor(private readonly db: Knex) {}

  async accountBreakdown(): Promise<AccountBreakdown[]> {
    const rows = await this.db('accounts').select('role', 'source', 'enabled').count<{ role: string; source: string; enabled: unknown; n: number | string }[]>({ n: '*' }).groupBy('role', 'source', 'enabled');
    return rows.map((r) => ({ role: r.role, source: r.source, enabled: Boolean(Number(r.enabled)), count: Number(r.n) }));
  }

  /**
   * Sign-ins succeeded and failed, and accounts locked, per hour over the
   * `hours` hours ending with the current one (integer division buckets the
   * times the same way on SQLite, PostgreSQL and SQL Server).
   */
  async signInsPerHour(now: number, hours: number): Promise<HourlySignIns[]> {
    const start = (Math.floor(now / HOUR_MS) - hours + 1) * HOUR_MS;
    // Inlined integers, not bindings: PostgreSQL matches the GROUP BY to the select list only when the text is the same.
    const expression = `(at - ${Math.trunc(start)}) / ${HOUR_MS}`;
    const bucket = this.db.raw(expression);
    const rows = await this.db('audit_events')
      .where('at', '>=', start)
      .whereIn('event', ['login', 'account_locked'])
      .select({ bucket, event: 'event', outcome: 'outcome' })
      .count<{ bucket: number | string; event: string; outcome: string; n: number | string }[]>({ n: '*' })
      .groupByRaw(`${expression}, event, outcome`);
    const result: HourlySignIns[] = Array.from({ length: hours }, (_, i) => ({ hour: start + i * HOUR_MS, succeeded: 0, failed: 0, locked: 0 }));
    for (const row of rows) {
      const slot = result[Number(row.bucket)];
      if (!slot) continue;
      const n = Number(row.n);
      if (row.event === 'account_locked') slot.locked += n;
      else if (row.outcome === 'success') slot.succeeded += n;
      else slot.failed += n;
    }
    return result;
  }

  async recentLockouts(limit: number): Promise<Pick<AuditRecord, 'at' | 'username' | 'clientIp'>[]> {
    const rows = await this.db('audit_events').where('event', 'account_locked').orderBy('id', 'desc').limit(limit).select('at', 'username', 'client_ip');
    return rows.map((r: { at: number | string; username: string | null; client_ip: string | null }) => ({ at: Number(r.at), username: r.username, clientIp: r.client_ip }));
  }
}
