// Single-logout state (tables cas_session_services, cas_logout_deliveries): session participants and the delivery queue.
import type { Knex } from 'knex';
import type { LogoutDelivery, NewParticipant, SessionParticipant, SingleLogoutStore } from '../cas/single-logout-store';
import { affected, knexClient } from './db';
import { chunks } from './statement-batcher';

interface ParticipantRow {
  id: number | string;
  tgt_key: string;
  service_id: number;
  service_url: string;
  ticket_id: string;
}

interface DeliveryRow {
  id: number | string;
  service_id: number | null;
  url: string;
  body: string;
  attempts: number;
  next_attempt_at: number | string;
}

/**
 * Every state change is a conditional statement whose row count decides who
 * won, so any number of instances can share the queue.
 */
export class KnexSingleLogoutStore implements SingleLogoutStore {
  constructor(private readonly db: Knex) {}

  /**
   * Many participants per statement (chunked under SQL Server's 2,100-parameter
   * limit). The old rows of a (session, service URL) go in the same statement
   * (PostgreSQL: a data-modifying WITH) or transaction (SQLite, SQL Server) as
   * the new ones are stored; on PostgreSQL a four-round-trip transaction per
   * batch cost a third of the single sign-on rate (bench --db postgres). Two instances recording
   * the same pair at once may both keep a row: one extra logout request.
   */
  async addParticipants(participants: NewParticipant[]): Promise<void> {
    const latest = new Map<string, NewParticipant>();
    // A TGT key is 64 hex digits: a space after it cannot be part of it.
    for (const p of participants) latest.set(`${p.tgtKey} ${p.serviceUrl}`, p);
    const batches = chunks([...latest.values()], 250);
    const previous = (db: Knex, chunk: NewParticipant[]) =>
      db('cas_session_services').where((q) => {
        for (const p of chunk) void q.orWhere({ tgt_key: p.tgtKey, service_url: p.serviceUrl });
      });
    const rows = (chunk: NewParticipant[]) =>
      chunk.map((p) => ({ tgt_key: p.tgtKey, service_id: p.serviceId, service_url: p.serviceUrl, ticket_id: p.ticketId, created_at: p.createdAt, expires_at: p.expiresAt }));
    if (knexClient(this.db) === 'pg') {
      for (const chunk of batches) await this.db('cas_session_services').with('previous', previous(this.db, chunk).del()).insert(rows(chunk));
      return;
    }
    await this.db.transaction(async (trx) => {
      for (const chunk of batches) {
        await previous(trx, chunk).del();
        await trx('cas_session_services').insert(rows(chunk));
      }
    });
  }

  async takeParticipants(tgtKey: string): Promise<SessionParticipant[]> {
    const rows = await this.db<ParticipantRow>('cas_session_services').where({ tgt_key: tgtKey });
    const taken: SessionParticipant[] = [];
    for (const row of rows) {
      if (affected(await this.db('cas_session_services').where({ id: row.id }).del()) === 1) {
        taken.push({ id: Number(row.id), tgtKey: row.tgt_key, serviceId: Number(row.service_id), serviceUrl: row.service_url, ticketId: row.ticket_id });
      }
    }
    return taken;
  }

  async purgeParticipants(expiredBefore: number): Promise<number> {
    return affected(await this.db('cas_session_services').where('expires_at', '<', expiredBefore).del());
  }

  async enqueue(deliveries: { serviceId: number; url: string; body: string }[], now: number): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db('cas_logout_deliveries').insert(
      deliveries.map((d) => ({ service_id: d.serviceId, url: d.url, body: d.body, attempts: 0, next_attempt_at: now, claimed_until: null, created_at: now })),
    );
  }

  async due(now: number, limit: number): Promise<LogoutDelivery[]> {
    const rows = await this.db<DeliveryRow>('cas_logout_deliveries')
      .where('next_attempt_at', '<=', now)
      .andWhere((q) => q.whereNull('claimed_until').orWhere('claimed_until', '<=', now))
      .orderBy('next_attempt_at')
      .limit(limit);
    return rows.map((r) => ({ id: Number(r.id), serviceId: r.service_id === null ? null : Number(r.service_id), url: r.url, body: r.body, attempts: Number(r.attempts), nextAttemptAt: Number(r.next_attempt_at) }));
  }

  async claim(d: LogoutDelivery, now: number, claimedUntil: number): Promise<boolean> {
    const count = await this.db('cas_logout_deliveries')
      .where({ id: d.id, attempts: d.attempts })
      .andWhere((q) => q.whereNull('claimed_until').orWhere('claimed_until', '<=', now))
      .update({ attempts: d.attempts + 1, claimed_until: claimedUntil });
    return affected(count) === 1;
  }

  async complete(id: number): Promise<void> {
    await this.db('cas_logout_deliveries').where({ id }).del();
  }

  async reschedule(id: number, nextAttemptAt: number, error: string): Promise<void> {
    await this.db('cas_logout_deliveries').where({ id }).update({ next_attempt_at: nextAttemptAt, claimed_until: null, last_error: error.slice(0, 500) });
  }

  async pending(): Promise<(LogoutDelivery & { lastError: string | null })[]> {
    const rows = await this.db<DeliveryRow & { last_error: string | null }>('cas_logout_deliveries').orderBy('id');
    return rows.map((r) => ({ id: Number(r.id), serviceId: r.service_id, url: r.url, body: r.body, attempts: Number(r.attempts), nextAttemptAt: Number(r.next_attempt_at), lastError: r.last_error }));
  }
}
