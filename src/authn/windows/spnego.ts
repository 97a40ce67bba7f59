import type { AuditLog } from '../../storage/audit-log';
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { LoginResult, LoginService, RequestContext } from '../login-service';
import type { AuthenticationBackend } from '../backend';
import { WindowsBackend } from './windows-backend';

export type NegotiateOutcome =
  /** The token was a valid Kerberos ticket; `result` is the login (success, locked, disabled...). */
  | { kind: 'login'; result: LoginResult; responseToken?: string }
  /** The header or token was refused; the browser gets the login form with `message`. */
  | { kind: 'refused'; status: 400 | 401; message: string };

/** Longest token accepted (a Kerberos ticket with a large PAC is a few KB; header limits are ~16 KB). */
const MAX_TOKEN_LENGTH = 12_000;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Integrated Windows sign-in (SPNEGO, RFC 4559) for GET /cas/login:
 * `Authorization: Negotiate <base64 token>` → Kerberos acceptance with the
 * service keytab → the same login path as a password login
 * (LoginService.loginWithPrincipal). Every refusal is audited.
 */
export class NegotiateAuthenticator {
  /** What GET /cas/login sends (with a 401 and the form as body) to invite the browser. */
  readonly challenge = 'Negotiate';

  constructor(
    private readonly backend: WindowsBackend,
    private readonly loginService: LoginService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** True when the request carries a Negotiate attempt for us to judge. */
  static isNegotiate(authorization: string | undefined): authorization is string {
    return authorization !== undefined && /^Negotiate(\s|$)/i.test(authorization);
  }

  async authenticate(authorization: string, context: RequestContext): Promise<NegotiateOutcome> {
    const token = authorization.replace(/^Negotiate\s*/i, '').trim();
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || token.length % 4 !== 0 || !BASE64.test(token)) {
      return this.refuse(400, 'negotiate_malformed', 'The browser sent a malformed Negotiate (integrated Windows sign-in) header. Sign in with your password instead.', context);
    }
    if (Buffer.from(token, 'base64').subarray(0, 8).toString('latin1') === 'NTLMSSP\u0000') {
      return this.refuse(401, 'negotiate_ntlm', 'Integrated sign-in works only with Kerberos, not NTLM (is this computer in the domain, and is the site in the intranet zone?). Sign in with your password instead.', context);
    }
    let accepted: Awaited<ReturnType<WindowsBackend['acceptNegotiateToken']>>;
    try {
      accepted = await this.backend.acceptNegotiateToken(token);
    } catch (error) {
      this.logger.warn({ event: 'negotiate_rejected', err: (error as Error).message }, 'SPNEGO token rejected');
      return this.refuse(401, 'negotiate_rejected', 'Integrated Windows sign-in did not work for this browser. Sign in with your password instead.', context, (error as Error).message);
    }
    const user = this.backend.userOfRealm(accepted.clientPrincipal);
    if (user === null) {
      return this.refuse(401, 'negotiate_foreign_principal', 'Your Windows account is not in a domain this service signs in. Sign in with your password instead.', context, accepted.clientPrincipal);
    }
    const result = await this.loginService.loginWithPrincipal(
      { username: accepted.clientPrincipal, backend: this.backend.name, resolve: () => this.backend.principalFor(user) },
      context,
    );
    return { kind: 'login', result, ...(accepted.responseToken ? { responseToken: accepted.responseToken } : {}) };
  }

  private async refuse(status: 400 | 401, reason: string, message: string, context: RequestContext, detail?: string): Promise<NegotiateOutcome> {
    await this.audit.append(
      { event: 'login', outcome: 'failure', username: null, backend: this.backend.name, clientIp: context.clientIp, userAgent: context.userAgent, details: { reason, channel: context.channel, ...(detail ? { detail: detail.slice(0, 300) } : {}) } },
      this.clock.now(),
    );
    return { kind: 'refused', status, message };
  }
}

/** The SPNEGO authenticator for the windows backend with `spnego: true`, if there is one. */
export function createNegotiateAuthenticator(backends: readonly AuthenticationBackend[], loginService: LoginService, audit: AuditLog, clock: Clock, logger: Logger): NegotiateAuthenticator | undefined {
  const windows = backends.find((b): b is WindowsBackend => b instanceof WindowsBackend && b.spnegoEnabled);
  return windows ? new NegotiateAuthenticator(windows, loginService, audit, clock, logger) : undefined;
}
