import type { Clock } from '../shared/clock';
import { type StoredTicket, type TicketRegistry, newTicketId } from './registry';

export interface SessionTimeouts {
  idleSeconds: number;
  hardSeconds: number;
}

/** What the single sign-on session remembers about how the user authenticated. */
export interface SessionAuthentication {
  /** Epoch ms of the password check. */
  authenticatedAt: number;
  backend: string;
  /** Attributes released to services, by name (multi-valued). */
  attributes: Record<string, string[]>;
  /** How the user proved who they are, first factor first ('password', 'spnego', 'passkey', 'totp', 'webauthn', 'recovery'); absent in sessions from before MFA (password only). */
  methods?: string[];
}

/** The authentication methods of a session (sessions from before MFA carry none: they were password sign-ins). */
export function methodsOf(authentication: Pick<SessionAuthentication, 'methods'>): string[] {
  return authentication.methods ?? ['password'];
}

/** A passkey with user verification is two factors in one: something you have, unlocked by something you know or are. */
export const PASSKEY_METHOD = 'passkey';

/** Whether a session (or a ticket issued under it) was established with a second factor. */
export function hasSecondFactor(authentication: Pick<SessionAuthentication, 'methods'>): boolean {
  const methods = methodsOf(authentication);
  return methods.length > 1 || methods.includes(PASSKEY_METHOD);
}

export interface SsoSession {
  tgtId: string;
  ticket: StoredTicket;
  authentication: SessionAuthentication;
}

// Re-checking idle expiry on every request would turn each SSO hit into a
// write; a session is touched at most once per this interval instead.
const TOUCH_INTERVAL_MS = 30_000;

export const TGT_PREFIX = 'TGT-';

/**
 * Single sign-on sessions (ticket-granting tickets) on top of the registry.
 * The TGC cookie carries the TGT id; the registry stores only its hash.
 */
export class SessionService {
  constructor(
    private readonly registry: TicketRegistry,
    private readonly clock: Clock,
    private readonly timeouts: () => SessionTimeouts,
  ) {}

  async create(principal: string, accountId: number | null, authentication: SessionAuthentication): Promise<string> {
    const now = this.clock.now();
    const { idleSeconds, hardSeconds } = this.timeouts();
    const id = newTicketId(TGT_PREFIX);
    await this.registry.add({
      id,
      kind: 'TGT',
      tgtKey: null,
      parentKey: null,
      accountId,
      principal,
      service: null,
      createdAt: now,
      expiresAt: now + hardSeconds * 1000,
      idleExpiresAt: Math.min(now + idleSeconds * 1000, now + hardSeconds * 1000),
      data: { ...authentication },
    });
    return id;
  }

  /** The live session for a TGC value, or null. Extends idle expiry. */
  async find(tgtId: string | undefined): Promise<SsoSession | null> {
    if (!tgtId || !tgtId.startsWith(TGT_PREFIX) || tgtId.length > 256) return null;
    const now = this.clock.now();
    const ticket = await this.registry.get(tgtId, 'TGT', now);
    if (!ticket) return null;
    const idleMs = this.timeouts().idleSeconds * 1000;
    if (ticket.idleExpiresAt - now < idleMs - TOUCH_INTERVAL_MS) await this.registry.touch(tgtId, now + idleMs);
    return { tgtId, ticket, authentication: ticket.data as unknown as SessionAuthentication };
  }

  /** Records a second factor completed within an existing session (step-up); false when the session ended meanwhile. */
  async addMethod(session: SsoSession, method: string): Promise<boolean> {
    const methods = [...new Set([...methodsOf(session.authentication), method])];
    return this.registry.updateData(session.tgtId, { ...session.ticket.data, methods });
  }

  /**
   * The live session with this stored key, without extending it: the
   * console holds only the key, and like any application using the session
   * it does not keep it alive.
   */
  async findByKey(key: string): Promise<Omit<SsoSession, 'tgtId'> | null> {
    const ticket = await this.registry.getByKey(key, 'TGT', this.clock.now());
    return ticket ? { ticket, authentication: ticket.data as unknown as SessionAuthentication } : null;
  }

  async destroy(tgtId: string): Promise<number> {
    return this.registry.deleteSession(tgtId);
  }
}
