import type { AuditLog } from '../../storage/audit-log';
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import { UnavailableError } from '../../shared/errors';
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
const MALFORMED_MESSAGE = 'The browser sent a malformed Negotiate (integrated Windows sign-in) header. Sign in with your password instead.';
/** GSS major/minor messages (MIT krb5) that mean the token is broken, not refused. */
const DEFECTIVE_TOKEN = /Invalid token was supplied|Token header is malformed|malformed or corrupt|Defective token/i;

/**
 * RFC 2743 §3.1 framing: an initial token is [APPLICATION 0] (0x60) holding a
 * mechanism OID; a later SPNEGO token is NegTokenResp ([1], 0xa1). Either way
 * one DER element whose length is exactly the rest of the token.
 */
function isGssToken(bytes: Buffer): boolean {
  if (bytes.length < 2 || (bytes[0] !== 0x60 && bytes[0] !== 0xa1)) return false;
  let length = bytes[1];
  let offset = 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 3 || bytes.length < 2 + octets) return false;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + bytes[2 + i];
    offset += octets;
  }
  if (offset + length !== bytes.length) return false;
  return bytes[0] === 0xa1 || bytes[offset] === 0x06;
}

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
      return this.refuse(400, 'negotiate_malformed', MALFORMED_MESSAGE, context);
    }
    const bytes = Buffer.from(token, 'base64');
    if (bytes.subarray(0, 8).toString('latin1') === 'NTLMSSP\u0000') {
      return this.refuse(401, 'negotiate_ntlm', 'Integrated sign-in works only with Kerberos, not NTLM (is this computer in the domain, and is the site in the intranet zone?). Sign in with your password instead.', context);
    }
    if (!isGssToken(bytes)) return this.refuse(400, 'negotiate_malformed', MALFORMED_MESSAGE, context, 'not a GSS-API token');
    let accepted: Awaited<ReturnType<WindowsBackend['acceptNegotiateToken']>>;
    try {
      accepted = await this.backend.acceptNegotiateToken(token);
    } catch (error) {
      const detail = (error as Error).message;
      this.logger.warn({ event: 'negotiate_rejected', err: detail }, 'SPNEGO token rejected');
      // GSS_S_DEFECTIVE_TOKEN and friends: the token itself is broken (400); anything else is a refused ticket (401).
      if (DEFECTIVE_TOKEN.test(detail)) return this.refuse(400, 'negotiate_malformed', MALFORMED_MESSAGE, context, detail);
      return this.refuse(401, 'negotiate_rejected', 'Integrated Windows sign-in did not work for this browser. Sign in with your password instead.', context, detail);
    }
    const loginName = this.backend.loginNameOf(accepted.clientPrincipal);
    if (loginName === null) {
      return this.refuse(401, 'negotiate_foreign_principal', 'Your Windows account is not in a domain this service signs in. Sign in with your password instead.', context, accepted.clientPrincipal);
    }
    const responseToken = accepted.responseToken ? { responseToken: accepted.responseToken } : {};
    let username: string;
    try {
      // A ticket obtained with a UPN names the client by it: the same account as its sAMAccountName@REALM.
      username = await this.backend.resolveUsername(loginName);
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      return { kind: 'login', result: await this.unavailable(error, loginName, context), ...responseToken };
    }
    const result = await this.loginService.loginWithPrincipal(
      { username, backend: this.backend.name, resolve: () => this.backend.principalFor(this.backend.userOf(username)) },
      context,
    );
    return { kind: 'login', result, ...responseToken };
  }

  /** The directory could not say which account the ticket names: fail closed like a password login (503, audited, not counted). */
  private async unavailable(error: UnavailableError, loginName: string, context: RequestContext): Promise<LoginResult> {
    this.logger.error({ event: 'login_unavailable', dependency: error.dependency, err: error.message }, 'SPNEGO login refused: dependency unavailable');
    await this.audit.append(
      { event: 'login', outcome: 'failure', username: loginName, backend: this.backend.name, clientIp: context.clientIp, userAgent: context.userAgent, details: { reason: 'unavailable', dependency: error.dependency, channel: context.channel } },
      this.clock.now(),
    );
    return { status: 'unavailable', dependency: error.dependency, message: error.message, reason: error.reason };
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
