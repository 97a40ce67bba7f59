// CAS tickets (TGT, ST, PT, PGT) in the `tickets` table, keyed by the hash of the id: the knex TicketRegistry.
import type { Knex } from 'knex';
import { type NewTicket, type StoredTicket, type TicketKind, type TicketRegistry, isAlive, ticketKey } from '../tickets/registry';
import { affected, deleteReturning } from './db';
import { StatementBatcher, chunks, writeBatcher } from './statement-batcher';

interface TicketRow {
  id: string;
  kind: string;
  tgt_id: string | null;
  parent_id: string | null;
  account_id: number | null;
  principal: string;
  service: string | null;
  created_at: number | string;
  expires_at: number | string;
  idle_expires_at: number | string;
  data: string | null;
}

function toTicket(row: TicketRow): StoredTicket {
  return {
    key: row.id,
    kind: row.kind as TicketKind,
    tgtKey: row.tgt_id,
    parentKey: row.parent_id,
    accountId: row.account_id === null ? null : Number(row.account_id),
    principal: row.principal,
    service: row.service,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    idleExpiresAt: Number(row.idle_expires_at),
    data: row.data ? (JSON.parse(row.data) as Record<string, unknown>) : {},
  };
}

function toRow(ticket: NewTicket): TicketRow {
  return {
    id: ticketKey(ticket.id),
    kind: ticket.kind,
    tgt_id: ticket.tgtKey,
    parent_id: ticket.parentKey,
    account_id: ticket.accountId,
    principal: ticket.principal,
    service: ticket.service,
    created_at: ticket.createdAt,
    expires_at: ticket.expiresAt,
    // Never later than the hard expiry: the purge looks at this column alone (migration 005).
    idle_expires_at: Math.min(ticket.idleExpiresAt, ticket.expiresAt),
    data: JSON.stringify(ticket.data),
  };
}

/** Puts each row with the caller that asked for its key; a key asked for twice goes to the first caller only. */
function deal(keys: string[], rows: TicketRow[]): (TicketRow | null)[] {
  const byKey = new Map(rows.map((row) => [row.id, row]));
  return keys.map((key) => {
    const row = byKey.get(key) ?? null;
    byKey.delete(key);
    return row;
  });
}

/**
 * Tickets in one table, keyed by the SHA-256 of the id. Issuing, looking up
 * and consuming are group-committed (src/storage/statement-batcher.ts): the
 * calls of one event-loop turn share one statement, chunked under SQL
 * Server's 2,100-parameter limit. Each caller still gets its own answer
 * before it replies, and single use holds: one DELETE … RETURNING removes a
 * row once, and a key consumed twice in one statement goes to one caller.
 */
export class KnexTicketStore implements TicketRegistry {
  private readonly inserts = writeBatcher<TicketRow>(async (rows) => {
    for (const chunk of chunks(rows, 150)) await this.db('tickets').insert(chunk);
  });

  private readonly lookups = new StatementBatcher<string, TicketRow | null>(async (keys) => {
    const rows: TicketRow[] = [];
    for (const chunk of chunks([...new Set(keys)], 500)) rows.push(...(await this.db<TicketRow>('tickets').whereIn('id', chunk)));
    // A lookup does not use the row up: every caller asking for the key gets it.
    const byKey = new Map(rows.map((row) => [row.id, row]));
    return keys.map((key) => byKey.get(key) ?? null);
  });

  private readonly consumptions = new StatementBatcher<{ key: string; kinds: string }, TicketRow | null>(async (requests) => {
    const results = new Map<(typeof requests)[number], TicketRow | null>();
    const byKinds = new Map<string, typeof requests>();
    for (const r of requests) {
      const group = byKinds.get(r.kinds);
      if (group) group.push(r);
      else byKinds.set(r.kinds, [r]);
    }
    for (const [kinds, group] of byKinds) {
      const keys = group.map((r) => r.key);
      const rows: TicketRow[] = [];
      for (const chunk of chunks([...new Set(keys)], 500)) {
        rows.push(...(await deleteReturning<TicketRow>(this.db('tickets').whereIn('id', chunk).whereIn('kind', kinds.split(',')))));
      }
      deal(keys, rows).forEach((row, i) => results.set(group[i], row));
    }
    return requests.map((r) => results.get(r) ?? null);
  });

  constructor(private readonly db: Knex) {}

  async add(ticket: NewTicket): Promise<void> {
    await this.inserts.run(toRow(ticket));
  }

  async get(id: string, kind: TicketKind, now: number): Promise<StoredTicket | null> {
    return this.getByKey(ticketKey(id), kind, now);
  }

  async getByKey(key: string, kind: TicketKind, now: number): Promise<StoredTicket | null> {
    const row = await this.lookups.run(key);
    if (!row) return null;
    const ticket = toTicket(row);
    return ticket.kind === kind && isAlive(ticket, now) ? ticket : null;
  }

  async consume(id: string, kinds: readonly TicketKind[], now: number): Promise<StoredTicket | null> {
    // Deleted and returned by one statement: of several concurrent consumers only one gets the row.
    // A ticket of another kind (a PGT handed to a validator) is left alone.
    const row = await this.consumptions.run({ key: ticketKey(id), kinds: [...kinds].sort().join(',') });
    if (!row) return null;
    const ticket = toTicket(row);
    return isAlive(ticket, now) ? ticket : null;
  }

  async touch(id: string, idleExpiresAt: number): Promise<void> {
    await this.db('tickets')
      .where({ id: ticketKey(id) })
      .update({ idle_expires_at: this.db.raw('CASE WHEN expires_at < ? THEN expires_at ELSE ? END', [idleExpiresAt, idleExpiresAt]) });
  }

  async updateData(id: string, data: Record<string, unknown>): Promise<boolean> {
    return affected(await this.db('tickets').where({ id: ticketKey(id) }).update({ data: JSON.stringify(data) })) === 1;
  }

  async deleteSession(tgtId: string): Promise<number> {
    const key = ticketKey(tgtId);
    return affected(await this.db('tickets').where({ id: key }).orWhere({ tgt_id: key }).del());
  }

  async deleteExpired(now: number, limit: number): Promise<{ count: number; expiredSessions: StoredTicket[] }> {
    // idle_expires_at never passes expires_at (add, touch), so it alone finds every dead ticket, through one index.
    const candidates = await this.db<TicketRow>('tickets')
      .where('idle_expires_at', '<=', now)
      .limit(limit)
      .select('id');
    let count = 0;
    const expiredSessions: StoredTicket[] = [];
    // Chunked to stay under SQL Server's 2100-parameter limit. The sessions reported are the
    // rows this statement deleted, so instances purging at once never report one session twice.
    for (let i = 0; i < candidates.length; i += 500) {
      const deleted = await deleteReturning<TicketRow>(this.db('tickets').whereIn('id', candidates.slice(i, i + 500).map((r) => r.id)));
      count += deleted.length;
      expiredSessions.push(...deleted.filter((r) => r.kind === 'TGT').map(toTicket));
    }
    // Children of an expired session die with it.
    for (const session of expiredSessions) count += affected(await this.db('tickets').where({ tgt_id: session.key }).del());
    return { count, expiredSessions };
  }

  async sessionsOf(accountId: number, now: number): Promise<StoredTicket[]> {
    const rows = await this.db<TicketRow>('tickets')
      .where({ kind: 'TGT', account_id: accountId })
      .andWhere('expires_at', '>', now)
      .andWhere('idle_expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .limit(100);
    return rows.map(toTicket);
  }

  async deleteSessionByKey(key: string): Promise<number> {
    return affected(await this.db('tickets').where({ id: key }).orWhere({ tgt_id: key }).del());
  }

  async countActive(kind: TicketKind, now: number): Promise<number> {
    const [row] = await this.db('tickets')
      .where({ kind })
      .andWhere('expires_at', '>', now)
      .andWhere('idle_expires_at', '>', now)
      .count<{ n: number | string }[]>({ n: '*' });
    return Number(row?.n ?? 0);
  }
}
