import express, { type Request, type RequestHandler, type Response, Router } from 'express';
import type { Config } from '../config/schema';
import type { LoginResult } from '../authn/login-service';
import { PASSWORD_CHANGE_DUE, refusalOf } from '../authn/refusals';
import type { MfaService } from '../mfa/mfa-service';
import { secondFactorWithPassword } from '../mfa/code-with-password';
import type { EdgeAuthenticator } from '../http/passport';
import { type Params, formParams } from '../http/params';
import { requestContext } from '../http/request-context';
import type { PublicUrl } from '../http/public-url';
import type { AuditLog } from '../storage/audit-log';
import type { SessionService } from '../tickets/sessions';
import type { Clock } from '../shared/clock';
import { InputError, NotFoundError } from '../shared/errors';
import type { ServicePort } from './login/service-port';
import { ENDPOINTS, MAX_SERVICE_LENGTH } from './constants';
import { isSet } from './routes';

export interface RestTicketDeps {
  config: Config;
  clock: Clock;
  /** Passport at the edge: the `rest` strategy reads the credentials from the form body. */
  authenticate: EdgeAuthenticator;
  sessions: SessionService;
  servicePort: ServicePort;
  audit: AuditLog;
  /** Second factors: an account with one sends its code as `otp`. */
  mfa: MfaService;
  publicUrl: PublicUrl;
}

const TGT_PATH = /^TGT-[A-Za-z0-9]{1,200}$/;

type PasswordSuccess = Extract<LoginResult, { status: 'success' }>;

function text(res: Response, status: number, body: string): void {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  res.status(status).type('text/plain; charset=utf-8').send(body.endsWith('\n') ? body : `${body}\n`);
}

async function sessionFor(deps: RestTicketDeps, tgt: string) {
  if (!TGT_PATH.test(tgt)) return null;
  return deps.sessions.find(tgt);
}

/**
 * Checks the form's credentials (through passport's `rest` strategy) and
 * `otp`, the second factor, when the account has or needs one; answers the
 * request itself and returns null unless they are good and usable.
 */
async function authenticate(deps: RestTicketDeps, req: Request, res: Response, form: Params): Promise<(PasswordSuccess & { methods: string[] }) | null> {
  const result = await deps.authenticate('rest', req, res);
  if (result.status !== 'success') {
    const refusal = refusalOf(result);
    text(res, refusal.status, refusal.message);
    return null;
  }
  if (result.passwordChange) {
    text(res, PASSWORD_CHANGE_DUE.status, PASSWORD_CHANGE_DUE.message);
    return null;
  }
  const second = await secondFactorWithPassword(deps.mfa, result, form.get('otp'), requestContext(req, 'rest'));
  if ('refusal' in second) {
    text(res, second.refusal.status, second.refusal.message);
    return null;
  }
  return { ...result, methods: second.methods };
}

/** POST /cas/v1/tickets: credentials → a TGT, answered as its id with its URL in Location. */
function createTicketGrantingTicket(deps: RestTicketDeps): RequestHandler {
  return async (req, res) => {
    const result = await authenticate(deps, req, res, formParams(req));
    if (!result) return;
    const tgt = await deps.sessions.create(result.account.username, result.account.id, {
      authenticatedAt: result.authenticatedAt,
      backend: result.backend,
      attributes: result.principal.attributes,
      methods: result.methods,
    });
    res.location(deps.publicUrl.to(`${ENDPOINTS.restTickets}/${tgt}`));
    text(res, 201, tgt);
  };
}

/** The `service` a service-ticket request names: required and bounded, checked before the TGT is looked up. */
function requestedService(form: Params): string {
  const service = form.get('service');
  if (!service) throw new InputError("'service' is required.");
  if (service.length > MAX_SERVICE_LENGTH) throw new InputError(`'service' is longer than ${MAX_SERVICE_LENGTH} characters.`);
  return service;
}

/**
 * POST /cas/v1/tickets/:tgt: a service ticket under a TGT. With `renew`,
 * Apereo-style: the user's credentials come along and are checked like a
 * fresh sign-in, and the ticket then passes validation with `renew=true`.
 * They must be the TGT owner's credentials.
 */
function issueServiceTicket(deps: RestTicketDeps): RequestHandler {
  return async (req, res) => {
    const form = formParams(req);
    const service = requestedService(form);
    const session = await sessionFor(deps, String(req.params.tgt));
    if (!session) throw new NotFoundError('No such ticket-granting ticket (it expired or was destroyed).');
    const check = await deps.servicePort.checkService(service);
    if (!check.allowed) throw new InputError(check.reason);
    if (!isSet(form.get('renew'))) {
      text(res, 200, await deps.servicePort.issueServiceTicket(session, check.service, false));
      return;
    }
    const result = await authenticate(deps, req, res, form);
    if (!result) return;
    if (result.account.id !== session.ticket.accountId) {
      text(res, 403, 'These credentials belong to another user than the ticket-granting ticket.');
      return;
    }
    const renewed = { ...session, authentication: { ...session.authentication, authenticatedAt: result.authenticatedAt, attributes: result.principal.attributes, methods: result.methods } };
    text(res, 200, await deps.servicePort.issueServiceTicket(renewed, check.service, true));
  };
}

/** GET /cas/v1/tickets/:tgt: a live TGT answers with its id. */
function showTicketGrantingTicket(deps: RestTicketDeps): RequestHandler {
  return async (req, res) => {
    const session = await sessionFor(deps, String(req.params.tgt));
    if (!session) throw new NotFoundError('No such ticket-granting ticket (it expired or was destroyed).');
    text(res, 200, session.tgtId);
  };
}

/** DELETE /cas/v1/tickets/:tgt: logout (single logout to its services, audited). */
function destroyTicketGrantingTicket(deps: RestTicketDeps): RequestHandler {
  return async (req, res) => {
    const tgt = String(req.params.tgt);
    const session = await sessionFor(deps, tgt);
    if (session) {
      await deps.sessions.destroy(session.tgtId);
      deps.servicePort.sessionEnded(session.ticket, session.tgtId);
      await deps.audit.append(
        { event: 'logout', outcome: 'success', username: session.ticket.principal, clientIp: req.ip ?? null, userAgent: req.get('user-agent') ?? null, details: { channel: 'rest' } },
        deps.clock.now(),
      );
    }
    // Idempotent, like Apereo: deleting an unknown or already-destroyed TGT is not an error.
    text(res, 200, tgt);
  };
}

/**
 * Apereo-style REST tickets (`/cas/v1/tickets`). Credentials go through
 * passport's `rest` strategy into the same LoginService as the login page, so
 * lockout, password policy, directory account states and auditing are
 * identical. Status codes:
 * 201 TGT created · 400 missing/invalid parameters · 401 wrong credentials ·
 * 403 account disabled/expired, or a password change is due (which must be
 * done on the login page first) · 415 not a form body · 423 name locked ·
 * 503 a directory or the database is unreachable.
 */
export function restTicketRoutes(deps: RestTicketDeps): Router {
  const router = Router();
  const formBody = express.raw({ type: () => true, limit: '64kb' });
  router.post(ENDPOINTS.restTickets, formBody, createTicketGrantingTicket(deps));
  router.post(`${ENDPOINTS.restTickets}/:tgt`, formBody, issueServiceTicket(deps));
  router.get(`${ENDPOINTS.restTickets}/:tgt`, showTicketGrantingTicket(deps));
  router.delete(`${ENDPOINTS.restTickets}/:tgt`, destroyTicketGrantingTicket(deps));
  return router;
}
