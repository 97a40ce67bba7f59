export interface SessionParticipant {
  id: number;
  tgtKey: string;
  serviceId: number;
  serviceUrl: string;
  ticketId: string;
}

export interface NewParticipant extends Omit<SessionParticipant, 'id'> {
  createdAt: number;
  /** When the row may be dropped even if nobody ended the session. */
  expiresAt: number;
}

export interface LogoutDelivery {
  id: number;
  serviceId: number | null;
  url: string;
  body: string;
  attempts: number;
  nextAttemptAt: number;
}

/**
 * Storage for single logout: which services took part in a session, and the
 * queue of logout notifications still to deliver, shared by every instance
 * (src/storage/single-logout-store.ts; the contract is
 * test/contracts/single-logout-store.contract.ts). Every state change must be
 * decided by the database, so two instances never both take a participant or
 * claim one attempt of a delivery.
 */
export interface SingleLogoutStore {
  /**
   * Stores participants. A session keeps one row per service URL, for the
   * ticket recorded last (as Apereo CAS's default, only the most recent
   * session per service is tracked): an application that validates a ticket
   * on every page would otherwise grow the table without bound and get as
   * many logout requests at the end.
   */
  addParticipants(participants: NewParticipant[]): Promise<void>;
  /** Removes and returns a session's participants; a row taken by a concurrent caller is not returned twice. */
  takeParticipants(tgtKey: string): Promise<SessionParticipant[]>;
  /** Drops participants of sessions that ended without notice (e.g. purged by another tool); returns how many. */
  purgeParticipants(expiredBefore: number): Promise<number>;
  /** Queues deliveries, due at once. */
  enqueue(deliveries: { serviceId: number; url: string; body: string }[], now: number): Promise<void>;
  /** Deliveries due at `now` and not claimed (or whose claim ran out), oldest due first. */
  due(now: number, limit: number): Promise<LogoutDelivery[]>;
  /** Takes a due delivery for one attempt until `claimedUntil`; false when another instance took it first. */
  claim(d: LogoutDelivery, now: number, claimedUntil: number): Promise<boolean>;
  /** Removes a delivered (or abandoned) delivery. */
  complete(id: number): Promise<void>;
  /** Releases a failed attempt's claim and sets when to try again, keeping the error. */
  reschedule(id: number, nextAttemptAt: number, error: string): Promise<void>;
  /** Every queued delivery, in queue order (for operators and tests). */
  pending(): Promise<(LogoutDelivery & { lastError: string | null })[]>;
}
