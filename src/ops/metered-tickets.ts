import type { NewTicket, StoredTicket, TicketKind, TicketRegistry } from '../tickets/registry';

/**
 * A ticket registry that counts every ticket issued (whichever code path
 * issues it), wrapped around any other: every call goes to `inner`, and a
 * ticket counts once `inner` has stored it.
 */
export class MeteredTicketRegistry implements TicketRegistry {
  constructor(
    private readonly inner: TicketRegistry,
    private readonly onIssued: (kind: NewTicket['kind']) => void,
  ) {}

  async add(ticket: NewTicket): Promise<void> {
    await this.inner.add(ticket);
    this.onIssued(ticket.kind);
  }

  get(id: string, kind: TicketKind, now: number): Promise<StoredTicket | null> {
    return this.inner.get(id, kind, now);
  }

  getByKey(key: string, kind: TicketKind, now: number): Promise<StoredTicket | null> {
    return this.inner.getByKey(key, kind, now);
  }

  consume(id: string, kinds: readonly TicketKind[], now: number): Promise<StoredTicket | null> {
    return this.inner.consume(id, kinds, now);
  }

  touch(id: string, idleExpiresAt: number): Promise<void> {
    return this.inner.touch(id, idleExpiresAt);
  }

  updateData(id: string, data: Record<string, unknown>): Promise<boolean> {
    return this.inner.updateData(id, data);
  }

  deleteSession(tgtId: string): Promise<number> {
    return this.inner.deleteSession(tgtId);
  }

  deleteExpired(now: number, limit: number): Promise<{ count: number; expiredSessions: StoredTicket[] }> {
    return this.inner.deleteExpired(now, limit);
  }

  countActive(kind: TicketKind, now: number): Promise<number> {
    return this.inner.countActive(kind, now);
  }

  sessionsOf(accountId: number, now: number): Promise<StoredTicket[]> {
    return this.inner.sessionsOf(accountId, now);
  }

  deleteSessionByKey(key: string): Promise<number> {
    return this.inner.deleteSessionByKey(key);
  }
}
