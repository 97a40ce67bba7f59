import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Request } from 'express';
import type { AccountService } from '../accounts/account-service';
import { parseCookies } from '../http/params';
import type { Account } from '../accounts/account';
import type { Clock } from '../shared/clock';
import type { SessionService, SsoSession } from '../tickets/sessions';
import type { ServicePort } from '../cas/login/service-port';
import type { TokenSigner } from '../web/signed-token';

export const CONSOLE_COOKIE = 'PCADMIN';
export const CONSOLE_COOKIE_ATTRIBUTES = 'Path=/; Secure; HttpOnly; SameSite=Lax';
export const CONSOLE_CALLBACK_PATH = '/admin/session';
/** Sensitive actions need credentials entered this recently (issue 13). */
export const REAUTH_MS = 5 * 60 * 1000;
const HANDOFF_PURPOSE = 'console-handoff';
const SESSION_PURPOSE = 'console-session';
const CSRF_PURPOSE = 'console-csrf';
const PENDING_PURPOSE = 'console-pending';
/** A pending action may carry a whole account form (the body limit is 64 kB). */
const PENDING_MAX_LENGTH = 96 * 1024;
const HANDOFF_TTL_MS = 30_000;

/** A sensitive action's form, kept while the administrator re-authenticates. */
export interface PendingAction {
  action: string;
  /** The account it applies to. */
  id: number;
  /**
   * The account's version when the action was asked for: it runs only on that
   * version, and running it changes the version, so a replayed token is refused.
   */
  version: number;
  form: Record<string, string>;
}

/** The signed-in administrator behind a console request. */
export interface ConsoleUser {
  account: Account;
  /** Stored key of the single sign-on session (TGT) the console rides on. */
  sessionKey: string;
  /** When credentials were last entered: at sign-in or re-authentication in the console (epoch ms). */
  authenticatedAt: number;
  /** When that session ends (the console cookie ends with it). */
  expiresAt: number;
  /** The form token every console POST must carry. */
  csrf: string;
}

/**
 * The console signs in through Portcullis's own CAS login, like any
 * application: an absent or expired console session goes to
 * `/cas/login?service=<console callback>`, and the login hands back a short
 * signed token (instead of a service ticket) naming the TGT's stored key.
 * The callback is allowed as a service without being registered; it is a
 * relative path unless `server.publicUrl` is set, so it cannot point
 * elsewhere. The console cookie holds only the signed key; each request
 * checks that TGT is still alive and that its account is an enabled
 * administrator, so signing out of CAS ends the console session too.
 */
export class ConsoleAuth {
  /** Encrypts pending actions: their forms may hold a new password, which must not travel in the page readable. */
  private readonly pendingKey: Buffer;

  constructor(
    private readonly deps: {
      publicUrl?: string;
      signer: TokenSigner;
      clock: Clock;
      sessions: Pick<SessionService, 'findByKey'>;
      accountService: Pick<AccountService, 'get'>;
    },
  ) {
    this.pendingKey = deps.signer.derivedKey(PENDING_PURPOSE);
  }

  private get callbackUrl(): string {
    return `${this.deps.publicUrl?.replace(/\/$/, '') ?? ''}${CONSOLE_CALLBACK_PATH}`;
  }

  private isCallback(service: string): boolean {
    return service === this.callbackUrl || service.startsWith(`${this.callbackUrl}?`);
  }

  /** The login's service port, with the console's callback allowed next to the registered services. */
  servicePort(inner: ServicePort): ServicePort {
    return {
      checkService: async (service) => (this.isCallback(service) ? { allowed: true, service, mfaRequired: false } : inner.checkService(service)),
      issueServiceTicket: async (session: SsoSession, service, fromNewLogin) =>
        this.isCallback(service) ? this.deps.signer.sign(HANDOFF_PURPOSE, { k: session.ticket.key }, this.deps.clock.now() + HANDOFF_TTL_MS) : inner.issueServiceTicket(session, service, fromNewLogin),
      sessionEnded: (session, tgtId) => inner.sessionEnded(session, tgtId),
    };
  }

  /** Where to send a browser to sign in and come back to `next` (a console path). */
  loginUrl(next: string): string {
    const service = `${this.callbackUrl}?next=${encodeURIComponent(next)}`;
    return `/cas/login?service=${encodeURIComponent(service)}`;
  }

  /** Turns the login's hand-off token into the console cookie's value (and its expiry), or null. */
  async establish(token: string | undefined): Promise<{ cookie: string; expiresAt: number } | null> {
    const now = this.deps.clock.now();
    const data = this.deps.signer.verify(HANDOFF_PURPOSE, token, now);
    if (!data || typeof data.k !== 'string') return null;
    const session = await this.deps.sessions.findByKey(data.k);
    if (!session) return null;
    return { cookie: this.deps.signer.sign(SESSION_PURPOSE, { k: data.k }, session.ticket.expiresAt), expiresAt: session.ticket.expiresAt };
  }

  /** The administrator signed in to the console, or null (no cookie, session over, not or no longer an administrator). */
  async current(req: Request): Promise<{ user: ConsoleUser | null; signedInAs?: string }> {
    const now = this.deps.clock.now();
    const data = this.deps.signer.verify(SESSION_PURPOSE, parseCookies(req.get('cookie')).get(CONSOLE_COOKIE), now);
    if (!data || typeof data.k !== 'string') return { user: null };
    const session = await this.deps.sessions.findByKey(data.k);
    if (!session || session.ticket.accountId === null) return { user: null };
    const account = await this.deps.accountService.get(session.ticket.accountId).catch(() => null);
    if (!account) return { user: null };
    if (account.role !== 'admin' || !account.enabled) return { user: null, signedInAs: account.username };
    const csrf = this.deps.signer.sign(CSRF_PURPOSE, { k: data.k }, session.ticket.expiresAt);
    // A re-authentication in the console is recorded in its cookie, bound to the same session.
    const authenticatedAt = Math.max(session.authentication.authenticatedAt, typeof data.r === 'number' ? data.r : 0);
    return { user: { account, sessionKey: data.k, authenticatedAt, expiresAt: session.ticket.expiresAt, csrf } };
  }

  validCsrf(user: ConsoleUser, token: string | undefined): boolean {
    const data = this.deps.signer.verify(CSRF_PURPOSE, token, this.deps.clock.now());
    return data !== null && data.k === user.sessionKey;
  }

  needsReauthentication(user: ConsoleUser): boolean {
    return this.deps.clock.now() - user.authenticatedAt > REAUTH_MS;
  }

  /** The console cookie's value after the administrator entered credentials again now. */
  reauthenticated(user: ConsoleUser): string {
    user.authenticatedAt = this.deps.clock.now();
    return this.deps.signer.sign(SESSION_PURPOSE, { k: user.sessionKey, r: user.authenticatedAt }, user.expiresAt);
  }

  /**
   * A sensitive action waiting for re-authentication, sealed (AES-256-GCM)
   * for this session only: the page carries it, but cannot read or change it.
   */
  pendingToken(user: ConsoleUser, action: PendingAction): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.pendingKey, iv);
    cipher.setAAD(Buffer.from(`${PENDING_PURPOSE}\n${user.sessionKey}`));
    const plaintext = JSON.stringify({ ...action, exp: this.deps.clock.now() + REAUTH_MS });
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), sealed].map((part) => part.toString('base64url')).join('.');
  }

  /** The pending action if the token was sealed for this session and has not expired; otherwise null. */
  pendingAction(user: ConsoleUser, token: string | undefined): PendingAction | null {
    const data = this.openPending(user, token);
    if (!data || typeof data.exp !== 'number' || data.exp <= this.deps.clock.now()) return null;
    if (typeof data.action !== 'string' || typeof data.id !== 'number' || typeof data.version !== 'number') return null;
    const form = data.form;
    if (typeof form !== 'object' || form === null || !Object.values(form).every((v) => typeof v === 'string')) return null;
    return { action: data.action, id: data.id, version: data.version, form: form as Record<string, string> };
  }

  private openPending(user: ConsoleUser, token: string | undefined): Record<string, unknown> | null {
    const parts = token && token.length <= PENDING_MAX_LENGTH ? token.split('.') : [];
    if (parts.length !== 3) return null;
    const [iv, tag, sealed] = parts.map((part) => Buffer.from(part, 'base64url'));
    if (iv.length !== 12 || tag.length !== 16) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.pendingKey, iv);
      decipher.setAAD(Buffer.from(`${PENDING_PURPOSE}\n${user.sessionKey}`));
      decipher.setAuthTag(tag);
      const data: unknown = JSON.parse(Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8'));
      return typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : null;
    } catch {
      // A token changed in transit, sealed for another session, or not a token at all.
      return null;
    }
  }
}

/** A console path to come back to; anything else is the dashboard. */
export function consolePath(value: string | undefined): string {
  return value && /^\/admin(\/[A-Za-z0-9/_-]*)?(\?[^\s\\#]*)?$/.test(value) && value.length < 1024 ? value : '/admin';
}
