import type { Knex } from 'knex';

export interface AuditEvent {
  event: string;
  outcome: 'success' | 'failure' | 'info';
  username?: string | null;
  actor?: string | null;
  backend?: string | null;
  clientIp?: string | null;
  userAgent?: string | null;
  /** Free-form context; never password material or ticket ids. */
  details?: Record<string, unknown>;
}

export interface AuditRecord extends Required<Omit<AuditEvent, 'details'>> {
  id: number;
  at: number;
  details: Record<string, unknown> | null;
}

export interface AuditQuery {
  username?: string;
  event?: string;
  from?: number;
  to?: number;
  /** Only events after this id, oldest first (following the trail); otherwise newest first. */
  afterId?: number;
  offset?: number;
  limit?: number;
}

/** Append-only audit trail: this class has no update or delete. */
export class AuditLog {
  private readonly observers: ((event: AuditEvent) => void)[] = [];

  constructor(private readonly db: Knex) {}

  /** Called after each stored event (metrics count logins and lockouts from here). */
  observe(observer: (event: AuditEvent) => void): void {
    this.observers.push(observer);
  }

  async append(event: AuditEvent, at: number): Promise<void> {
    await this.appendMany([event], at);
  }

  /** Several events in multi-row inserts (bulk operations such as the legacy import); 100 rows per statement stays under SQL Server's 2100 parameters. */
  async appendMany(events: AuditEvent[], at: number): Promise<void> {
    for (let i = 0; i < events.length; i += 100) {
      await this.db('audit_events').insert(
        events.slice(i, i + 100).map((event) => ({
          at,
          event: event.event,
          outcome: event.outcome,
          username: event.username?.slice(0, 256) ?? null,
          actor: event.actor?.slice(0, 256) ?? null,
          backend: event.backend ?? null,
          client_ip: event.clientIp?.slice(0, 64) ?? null,
          user_agent: event.userAgent?.slice(0, 512) ?? null,
          details: event.details ? JSON.stringify(event.details) : null,
        })),
      );
    }
    for (const event of events) for (const observer of this.observers) observer(event);
  }

  async query(q: AuditQuery): Promise<{ events: AuditRecord[]; total: number }> {
    const base = this.db('audit_events');
    if (q.username) base.where('username', q.username);
    if (q.event) base.where('event', q.event);
    if (q.from !== undefined) base.where('at', '>=', q.from);
    if (q.to !== undefined) base.where('at', '<', q.to);
    if (q.afterId !== undefined) base.where('id', '>', q.afterId);
    const [count] = await base.clone().count<{ n: number | string }[]>({ n: '*' });
    const rows = await base.orderBy('id', q.afterId === undefined ? 'desc' : 'asc').offset(q.offset ?? 0).limit(q.limit ?? 50);
    return {
      total: Number(count?.n ?? 0),
      events: rows.map((r: Record<string, unknown>) => ({
        id: Number(r.id),
        at: Number(r.at),
        event: String(r.event),
        outcome: r.outcome as AuditRecord['outcome'],
        username: (r.username as string | null) ?? null,
        actor: (r.actor as string | null) ?? null,
        backend: (r.backend as string | null) ?? null,
        clientIp: (r.client_ip as string | null) ?? null,
        userAgent: (r.user_agent as string | null) ?? null,
        details: r.details ? (JSON.parse(String(r.details)) as Record<string, unknown>) : null,
      })),
    };
  }
}
