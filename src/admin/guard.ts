import type { Request } from 'express';
import type { Actor } from '../accounts/account-service';
import type { Account } from '../accounts/account';
import type { AuditEvent } from '../storage/audit-log';
import type { Clock } from '../shared/clock';
import { HttpError } from '../shared/errors';
import type { ApiToken, ApiTokenService } from './api-tokens';
import { apiError } from './error-codes';

/**
 * Who may call a route:
 * - `public`: anyone (getting a token, the OpenAPI document);
 * - `account`: any signed-in account, even one that must change its password first (/me...);
 * - `admin`: administrators holding a full-scope token.
 */
export type Access = 'public' | 'account' | 'admin';

export interface Caller {
  account: Account;
  token: ApiToken;
}

const BEARER = /^Bearer +([^\s]+) *$/i;

/** Header value for 401s (RFC 6750 §3). */
export function wwwAuthenticate(error?: HttpError): string {
  return error?.code === 'invalid_token' ? 'Bearer realm="portcullis", error="invalid_token"' : 'Bearer realm="portcullis"';
}

/**
 * Bearer-token authentication and role check for /api/v1. The role and the
 * enabled flag are read from the account on every call, so demoting or
 * disabling someone takes effect at once, whatever tokens they hold.
 */
export class ApiGuard {
  constructor(
    private readonly tokens: Pick<ApiTokenService, 'authenticate'>,
    private readonly accounts: { findById(id: number): Promise<Account | null> },
    private readonly audit: { append(event: AuditEvent, at: number): Promise<void> },
    private readonly clock: Clock,
  ) {}

  /** The caller, or null on public routes; throws 401/403 HttpErrors. */
  async check(req: Request, access: Access): Promise<Caller | null> {
    if (access === 'public') return null;
    const header = req.get('authorization');
    if (header === undefined) throw apiError('UNAUTHENTICATED');
    const match = BEARER.exec(header);
    if (!match) throw apiError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>".');
    const token = await this.tokens.authenticate(match[1]);
    if (!token) throw apiError('INVALID_TOKEN');
    const account = await this.accounts.findById(token.accountId);
    if (!account || !account.enabled) throw apiError('INVALID_TOKEN');
    const caller = { account, token };
    if (access === 'account') return caller;
    if (token.scope !== 'full') throw await this.refuse(req, caller, apiError('PASSWORD_CHANGE_REQUIRED'));
    if (account.role !== 'admin') throw await this.refuse(req, caller, apiError('FORBIDDEN'));
    return caller;
  }

  /** A refused administrator call is worth an audit row: someone probed what they may not do. */
  private async refuse(req: Request, caller: Caller, error: HttpError): Promise<HttpError> {
    await this.audit.append(
      {
        event: 'api_forbidden',
        outcome: 'failure',
        username: caller.account.username,
        actor: caller.account.username,
        clientIp: req.ip ?? null,
        userAgent: req.get('user-agent') ?? null,
        details: { method: req.method, path: req.baseUrl + req.path, reason: error.code, tokenId: caller.token.id },
      },
      this.clock.now(),
    );
    return error;
  }
}

export function actorOf(req: Request, caller: Caller): Actor {
  return { name: caller.account.username, clientIp: req.ip ?? null };
}
