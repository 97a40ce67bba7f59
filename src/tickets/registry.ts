import { randomAlphanumeric, sha256Hex } from '../shared/random';

export type TicketKind = 'TGT' | 'ST' | 'PT' | 'PGT';

/** A ticket as stored. `key` is derived from the ticket id by `ticketKey` (a hash); the id itself is never stored. */
export interface StoredTicket {
  key: string;
  kind: TicketKind;
  /** Key of the ticket-granting ticket this one descends from (null for a TGT itself). */
  tgtKey: string | null;
  /** Key of the direct parent (the TGT for an ST, the PGT for a PT). */
  parentKey: string | null;
  accountId: number | null;
  principal: string;
  service: string | null;
  createdAt: number;
  expiresAt: number;
  idleExpiresAt: number;
  data: Record<string, unknown>;
}

export interface NewTicket extends Omit<StoredTicket, 'key'> {
  id: string;
}

/**
 * Where every CAS ticket lives (src/storage/ticket-store.ts; the contract is
 * test/contracts/ticket-registry.contract.ts). Implementations must make
 * `consume` atomic: when several callers consume one ticket at once, exactly
 * one gets it.
 */
export interface TicketRegistry {
  add(ticket: NewTicket): Promise<void>;
  /** The ticket if it exists, has this kind and has not expired at `now`. */
  get(id: string, kind: TicketKind, now: number): Promise<StoredTicket | null>;
  /** Like get, by stored key (for holders of a key, such as the console's session cookie, who never see the id). */
  getByKey(key: string, kind: TicketKind, now: number): Promise<StoredTicket | null>;
  /** Removes and returns the ticket; null when missing, already consumed, of another kind or expired. */
  consume(id: string, kinds: readonly TicketKind[], now: number): Promise<StoredTicket | null>;
  /** Pushes back idle expiry (never past the hard expiry). */
  touch(id: string, idleExpiresAt: number): Promise<void>;
  /** Replaces a ticket's data (a session that completed a second factor); false when the ticket is gone. */
  updateData(id: string, data: Record<string, unknown>): Promise<boolean>;
  /** Deletes a TGT and everything issued under it; returns how many tickets went. */
  deleteSession(tgtId: string): Promise<number>;
  /** Deletes every ticket expired at `now`; returns the TGTs that went (for single logout) and the count. */
  deleteExpired(now: number, limit: number): Promise<{ count: number; expiredSessions: StoredTicket[] }>;
  countActive(kind: TicketKind, now: number): Promise<number>;
  /** The live single sign-on sessions (TGTs) of one account, newest first (at most 100). */
  sessionsOf(accountId: number, now: number): Promise<StoredTicket[]>;
  /** Like deleteSession, by stored key (an administrator ending someone's session never sees its id). */
  deleteSessionByKey(key: string): Promise<number>;
}

/** Whether a ticket is usable at `now`: before both its hard and its idle expiry. */
export const isAlive = (t: StoredTicket, now: number): boolean => t.expiresAt > now && t.idleExpiresAt > now;

// Issue time in milliseconds, 11 hex digits (fixed width, so keys sort by it until the year 2527).
const ISSUE_TIME_DIGITS = 11;
/** Random bytes behind every ticket id (256 bits; the spec asks for "adequate secure random data"). */
export const TICKET_RANDOM_BYTES = 32;
// The 43 characters randomAlphanumeric(32) gives, after the issue time.
const TIME_ORDERED_ID = new RegExp(`^[A-Z]+-([0-9a-f]{${ISSUE_TIME_DIGITS}})[A-Za-z0-9]{43}$`);

/**
 * A new ticket id: `prefix`, the issue time, then 32 bytes from the CSPRNG
 * over [A-Za-z0-9]. The time is there for the key (below), not for trust:
 * nothing reads it back as a time.
 */
export function newTicketId(prefix: string): string {
  return `${prefix}${Date.now().toString(16).padStart(ISSUE_TIME_DIGITS, '0')}${randomAlphanumeric(TICKET_RANDOM_BYTES)}`;
}

/**
 * The stored key of a ticket id: a SHA-256 of the id, so the table holds no
 * usable ticket. Ids from newTicketId get their issue time in front of the
 * hash (then 53 hex digits of it, 212 bits, to fit the 64-character column):
 * new tickets then sit together at the end of the index instead of on a
 * random page each, so issuing and consuming touch the same few pages however
 * many tickets are live (bench/sso.ts: 10k vs 1M tickets). Ids without the
 * time (issued before it existed) keep the plain SHA-256 key.
 */
export function ticketKey(id: string): string {
  const timed = TIME_ORDERED_ID.exec(id);
  return timed ? `${timed[1]}${sha256Hex(id).slice(0, 64 - ISSUE_TIME_DIGITS)}` : sha256Hex(id);
}

