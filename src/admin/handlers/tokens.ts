import type { RequestContext } from '../../authn/login-service';
import type { Account } from '../../accounts/account';
import { HttpError, NotFoundError } from '../../shared/errors';
import { type LoginRefusal, refusalOf } from '../../authn/refusals';
import { secondFactorWithPassword } from '../../mfa/code-with-password';
import type { ApiToken, TokenContext } from '../api-tokens';
import { isoTime, passwordExpiresAt } from '../account-views';
import { apiError } from '../error-codes';
import { actorOf, wwwAuthenticate } from '../guard';
import { type ApiResult, type ApiRoute, defineRoute } from '../route-kit';
import { issuedTokenSchema, pageOf, tokenIdParams, tokenInfoSchema, tokenListQuery, tokenRequestSchema } from '../schemas';
import { type TokenRouteDeps, page, requestContext } from './context';

export function tokenInfo(token: ApiToken) {
  return { id: token.id, username: token.username, scope: token.scope, clientIp: token.clientIp, createdAt: isoTime(token.createdAt), expiresAt: isoTime(token.expiresAt) };
}

/** Turns a successful login into a token answer; a pending password change yields only a password-change token. */
export async function issueFor(deps: Pick<TokenRouteDeps, 'tokens'>, account: Account, passwordChange: 'initial' | 'expired' | undefined, context: TokenContext): Promise<ApiResult> {
  const scope = passwordChange ? 'password_change' : 'full';
  const { secret, token } = await deps.tokens.issue(account, scope, context);
  return {
    status: 201,
    body: {
      token: secret,
      tokenType: 'Bearer',
      id: token.id,
      scope,
      expiresAt: isoTime(token.expiresAt),
      ...(passwordChange ? { passwordChange } : {}),
      account: { id: account.id, username: account.username, role: account.role },
    },
  };
}

/** Login refusals as API problems: the refusal table's status, code and message, as problem+json. */
function refusal(result: LoginRefusal): Error {
  const entry = refusalOf(result);
  return new HttpError(entry.status, entry.code, entry.message, [], entry.extensions);
}

/**
 * A live single sign-on session (TGT) vouches for its account as a password
 * would; the account must still exist and be enabled, and a pending
 * password change still restricts the token.
 */
async function exchangeTicketGrantingTicket(deps: TokenRouteDeps, tgtId: string, context: RequestContext): Promise<ApiResult> {
  const { sessions, accounts, audit, policy, clock } = deps;
  const session = await sessions.find(tgtId);
  const accountId = session?.ticket.accountId;
  const account = accountId ? await accounts.findById(accountId) : null;
  const now = clock.now();
  if (!session || !account || !account.enabled) {
    await audit.append({ event: 'token_refused', outcome: 'failure', username: session?.ticket.principal ?? null, clientIp: context.clientIp, userAgent: context.userAgent, details: { channel: 'cas_tgt', reason: session ? 'account_unusable' : 'unknown_tgt' } }, now);
    throw apiError('INVALID_CREDENTIALS', 'The ticket-granting ticket is unknown or expired, or its account is disabled.');
  }
  const expiresAt = passwordExpiresAt(account, policy.get().password.maxAgeDays);
  const passwordChange = account.mustChangePassword ? 'initial' : expiresAt !== null && expiresAt <= now ? 'expired' : undefined;
  // A session cannot vouch beyond its own end: the token ends with the TGT (logout) and never outlives it.
  const endsAt = Math.min(session.ticket.expiresAt, session.ticket.idleExpiresAt);
  return issueFor(deps, account, passwordChange, { ...context, channel: 'cas_tgt', session: { tgtKey: session.ticket.key, endsAt } });
}

const issueRoute = (deps: TokenRouteDeps) => {
  const { authenticate } = deps;
  return defineRoute({
    method: 'post',
    path: '/tokens',
    access: 'public',
    tag: 'tokens',
    summary: 'Exchange a username and password (or a CAS ticket-granting ticket) for a short-lived bearer token',
    description:
      'Credentials go through the same checks as the login page: lockout (MaxAllowedLoginFailureCount / UserLockoutTimeout), disabled accounts, directory states and password expiry. ' +
      'A ticket-granting ticket must be live and its account enabled. ' +
      'When the password must be changed first, the token has scope "password_change" and allows only GET /me, POST /me/password and DELETE /tokens/current.',
    body: tokenRequestSchema,
    responses: { 201: { description: 'Token issued.', schema: issuedTokenSchema } },
    errors: [401, 403, 423, 503],
    async handle({ req, body }) {
      const context = requestContext(req, 'api_token');
      if (body.ticketGrantingTicket !== undefined) return exchangeTicketGrantingTicket(deps, body.ticketGrantingTicket, context);
      const result = await authenticate('api_token', req, req.res!);
      if (result.status !== 'success') {
        if (result.status === 'invalid') req.res?.set('WWW-Authenticate', wwwAuthenticate());
        throw refusal(result);
      }
      // A pending password change yields only a password-change token; any other needs the second factor first.
      if (!result.passwordChange) {
        const second = await secondFactorWithPassword(deps.mfa, result, body.otp ?? req.get('x-portcullis-otp'), context);
        if ('refusal' in second) throw new HttpError(second.refusal.status, second.refusal.code, second.refusal.message, [], second.refusal.extensions);
      }
      return issueFor(deps, result.account, result.passwordChange, { ...context, channel: 'credentials' });
    },
  });
};

const listRoute = ({ tokens }: TokenRouteDeps) =>
  defineRoute({
    method: 'get',
    path: '/tokens',
    access: 'admin',
    tag: 'tokens',
    summary: 'List unexpired tokens (never the token values)',
    query: tokenListQuery,
    responses: { 200: { description: 'A page of tokens, newest first.', schema: pageOf(tokenInfoSchema, 'TokenPage') } },
    async handle({ query }) {
      const { tokens: listed, total } = await tokens.list(query);
      return { status: 200, body: { items: listed.map(tokenInfo), total, ...page(query) } };
    },
  });

const revokeCurrentRoute = ({ tokens }: TokenRouteDeps) =>
  defineRoute({
    method: 'delete',
    path: '/tokens/current',
    access: 'account',
    tag: 'tokens',
    summary: 'Revoke the token used for this call (sign out of the API)',
    responses: { 204: { description: 'Revoked.' } },
    async handle({ req, caller }) {
      await tokens.revoke(caller.token, 'signed_out', actorOf(req, caller));
      return { status: 204 };
    },
  });

const revokeRoute = ({ tokens }: TokenRouteDeps) =>
  defineRoute({
    method: 'delete',
    path: '/tokens/{id}',
    access: 'admin',
    tag: 'tokens',
    summary: "Revoke any account's token by its id",
    params: tokenIdParams,
    responses: { 204: { description: 'Revoked.' } },
    async handle({ req, params, caller }) {
      const token = await tokens.find(params.id);
      if (!token || !(await tokens.revoke(token, 'revoked_by_administrator', actorOf(req, caller)))) {
        throw new NotFoundError(`No active token with id ${params.id}.`);
      }
      return { status: 204 };
    },
  });

export function tokenRoutes(deps: TokenRouteDeps): ApiRoute[] {
  return [issueRoute(deps), listRoute(deps), revokeCurrentRoute(deps), revokeRoute(deps)];
}
