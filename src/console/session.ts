import type { Request } from 'express';
import type { AccountService } from '../accounts/account-service';
import { parseCookies } from '../http/params';
import type { Account } from '../storage/accounts-repo';
import type { Clock } from '../shared/clock';
import type { SessionService, SsoSession } from '../tickets/sessions';
import type { ServicePort } from '../web/service-port';
import type { TokenSigner } from '../web/signed-token';

export const CONSOLE_COOKIE = 'PCADMIN';
export const CONSOLE_CALLBACK_PATH = '/admin/session';
/** Sensitive actions need a password entered this recently (issue 13). */
export const REAUTH_MS = 5 * 60 * 1000;
const HANDOFF_PURPOSE = 'console-handoff';
const SESSION_PURPOSE = 'console-session';
const CSRF_PURPOSE = 'console-csrf';
const HANDOFF_TTL_MS = 30_000;

/** The signed-in administrator behind a console request. */
export interface ConsoleUser {
  account: Account;
  /** Stored key of the single sign-on session (TGT) the console rides on. */
  sessionKey: string;
  /** When the password was last entered in that session (epoch ms). */
  authenticatedAt: number;
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
  constructor(
    private readonly deps: { publicUrl?: string; signer: TokenSigner; clock: Clock; sessions: SessionService; accountService: AccountService },
  ) {}

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

  /** Where to send a browser to sign in (again, with `renew`) and come back to `next` (a console path). */
  loginUrl(next: string, renew = false): string {
    const service = `${this.callbackUrl}?next=${encodeURIComponent(next)}`;
    return `/cas/login?service=${encodeURIComponent(service)}${renew ? '&renew=true' : ''}`;
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
    return { user: { account, sessionKey: data.k, authenticatedAt: session.authentication.authenticatedAt, csrf } };
  }

  validCsrf(user: ConsoleUser, token: string | undefined): boolean {
    const data = this.deps.signer.verify(CSRF_PURPOSE, token, this.deps.clock.now());
    return data !== null && data.k === user.sessionKey;
  }

  needsReauthentication(user: ConsoleUser): boolean {
    return this.deps.clock.now() - user.authenticatedAt > REAUTH_MS;
  }
}

/** A console path to come back to; anything else is the dashboard. */
export function consolePath(value: string | undefined): string {
  return value && /^\/admin(\/[A-Za-z0-9/_-]*)?(\?[^\s\\#]*)?$/.test(value) && value.length < 1024 ? value : '/admin';
}
