import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, Router } from 'express';
import path from 'node:path';
import type { AccountService } from '../accounts/account-service';
import { assertPasswordSize } from '../accounts/account-service';
import type { LoginResult } from '../authn/login-service';
import { type LoginRefusal, refusalOf } from '../authn/refusals';
import { NegotiateAuthenticator } from '../authn/windows/spnego';
import type { Config } from '../config/schema';
import type { PasswordAuthenticator } from '../http/passport';
import { requestContext } from '../http/request-context';
import { FORM_CONTENT_TYPE, Params, formParams, parseCookies, queryParams } from '../http/params';
import type { AuditLog } from '../storage/audit-log';
import type { SessionService, SsoSession } from '../tickets/sessions';
import type { SecondFactorStep } from './second-factor';
import type { Clock } from '../shared/clock';
import { InputError, PolicyError } from '../shared/errors';
import { packageRoot } from '../shared/package-root';
import type { TokenSigner } from './signed-token';
import { type ServicePort, appendQueryParameter } from './service-port';
import { type Notice, changePasswordPage, errorPage, loggedInPage, loggedOutPage, loginPage, postRedirectPage } from './views';

export const TGC_COOKIE = 'TGC';
export const LOGIN_NONCE_COOKIE = 'PCLOGIN';
const EXECUTION_PURPOSE = 'login-execution';
const PASSWORD_CHANGE_PURPOSE = 'password-change';
const EXECUTION_TTL_MS = 60 * 60 * 1000;
const PASSWORD_CHANGE_TTL_MS = 10 * 60 * 1000;
export const MAX_SERVICE_LENGTH = 4096;

const MESSAGES = {
  formExpired: 'Your sign-in form expired. Please try again.',
  missing: 'Enter your username and password.',
} as const;

export interface LoginRouteDeps {
  config: Config;
  clock: Clock;
  authenticatePassword: PasswordAuthenticator;
  accountService: AccountService;
  sessions: SessionService;
  signer: TokenSigner;
  services: ServicePort;
  audit: AuditLog;
  /** Integrated Windows sign-in (SPNEGO) on GET /cas/login, when a windows backend enables it. */
  negotiate?: NegotiateAuthenticator;
  /** The second-factor step (src/web/second-factor.ts). */
  secondFactor: SecondFactorStep;
}

/** HTTP status and message for a login that did not succeed (form and integrated sign-in alike): the refusal table's. */
function failureView(result: LoginRefusal): { status: number; text: string } {
  const refusal = refusalOf(result);
  return { status: refusal.status, text: refusal.message };
}

interface ServiceRequest {
  service?: string;
  renew: boolean;
  gateway: boolean;
  method: 'GET' | 'POST';
  /** `authn_method=mfa`, or a service that requires it: this login must use a second factor. */
  mfa: boolean;
}

function flag(value: string | undefined): boolean {
  return value !== undefined && value !== 'false' && value !== '0';
}

const SERVICE_REQUEST_PARAMETERS = ['service', 'renew', 'gateway', 'method'] as const;

/**
 * A form post's service request: Apereo's login form posts to the URL that
 * carries `service` (and renew, gateway, method) in its query, older forms
 * send them as fields. Either way works; both at once must agree.
 */
function postedServiceParams(query: Params, form: Params): Params {
  const merged = new Map<string, string>();
  for (const name of SERVICE_REQUEST_PARAMETERS) {
    const fromQuery = query.get(name);
    const fromForm = form.get(name);
    if (fromQuery !== undefined && fromForm !== undefined && fromQuery !== fromForm) {
      throw new InputError(`The form and its URL name different values for "${name}"; sign in again from the application's link.`);
    }
    const value = fromForm ?? fromQuery;
    if (value !== undefined) merged.set(name, value);
  }
  return Params.of(merged);
}

function readServiceRequest(params: Params): ServiceRequest {
  const service = params.get('service');
  if (service !== undefined && service.length > MAX_SERVICE_LENGTH) throw new InputError(`service is longer than ${MAX_SERVICE_LENGTH} characters.`);
  const method = (params.get('method') ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'POST') throw new InputError('method must be GET or POST.');
  const renew = flag(params.get('renew'));
  const authnMethod = params.get('authn_method');
  if (authnMethod !== undefined && authnMethod !== '' && authnMethod !== 'mfa') throw new InputError('authn_method must be "mfa" (a second factor) when given.');
  // The spec: gateway is ignored when renew is set.
  return { service: service === '' ? undefined : service, renew, gateway: !renew && flag(params.get('gateway')), method, mfa: authnMethod === 'mfa' };
}

const cookieAttributes = 'Path=/cas; Secure; HttpOnly; SameSite=Lax';


function noStore(res: Response): void {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache', Expires: '0' });
}

/** `/cas/login`, `/cas/password` and `/cas/logout`: the pages people see. */
export function loginRoutes(deps: LoginRouteDeps): Router {
  const router = Router();
  const { clock, signer, services } = deps;

  router.use('/cas/static', express.static(path.join(packageRoot(), 'src', 'web', 'static'), { fallthrough: false, index: false, maxAge: '1h' }));
  router.use('/cas', (_req, res, next) => {
    noStore(res);
    next();
  });
  const formBody = express.raw({ type: () => true, limit: '64kb' });

  /** Login form with a fresh CSRF `execution` bound to the browser's nonce cookie. */
  function renderLogin(req: Request, res: Response, status: number, model: { service?: ServiceRequest; username?: string; notice?: Notice }): void {
    let nonce = parseCookies(req.get('cookie')).get(LOGIN_NONCE_COOKIE);
    if (!nonce || !/^[A-Za-z0-9_-]{22,64}$/.test(nonce)) {
      nonce = randomBytes(18).toString('base64url');
      res.append('Set-Cookie', `${LOGIN_NONCE_COOKIE}=${nonce}; ${cookieAttributes}`);
    }
    const execution = signer.sign(EXECUTION_PURPOSE, { n: nonce }, clock.now() + EXECUTION_TTL_MS);
    res.status(status).type('html').send(
      loginPage({ execution, service: model.service?.service, renew: model.service?.renew, method: model.service?.method === 'POST' ? 'POST' : undefined, username: model.username, notice: model.notice }),
    );
  }

  function validExecution(req: Request, execution: string | undefined): boolean {
    const nonce = parseCookies(req.get('cookie')).get(LOGIN_NONCE_COOKIE);
    const data = signer.verify(EXECUTION_PURPOSE, execution, clock.now());
    return data !== null && nonce !== undefined && data.n === nonce;
  }

  /** Rejects an unregistered service with an error page; never redirects to it. */
  async function allowedService(res: Response, request: ServiceRequest): Promise<boolean> {
    if (request.service === undefined) return true;
    const check = await services.checkService(request.service);
    if (check.allowed) {
      request.service = check.service;
      // A service that requires a second factor asks for one like `authn_method=mfa` does.
      request.mfa ||= check.mfaRequired;
      return true;
    }
    res.status(400).type('html').send(errorPage('Application not authorized', check.reason));
    return false;
  }

  async function sendToService(res: Response, request: { service?: string; method: 'GET' | 'POST' }, ticket: string | null): Promise<void> {
    const service = request.service as string;
    if (request.method === 'POST') {
      res.status(200).type('html').send(postRedirectPage(service, ticket ? { ticket } : {}));
      return;
    }
    // Location only: express's redirect() also negotiates and renders a body nobody reads (single sign-on's hot path).
    res.status(303).location(ticket ? appendQueryParameter(service, 'ticket', ticket) : service).end();
  }

  /** Creates the single sign-on session for a complete login and sets its cookie. */
  async function establish(res: Response, result: Extract<LoginResult, { status: 'success' }>, methods: string[]): Promise<SsoSession> {
    const tgtId = await deps.sessions.create(result.account.username, result.account.id, {
      authenticatedAt: result.authenticatedAt,
      backend: result.backend,
      attributes: result.principal.attributes,
      methods,
    });
    res.append('Set-Cookie', `${TGC_COOKIE}=${tgtId}; ${cookieAttributes}`);
    const session = await deps.sessions.find(tgtId);
    if (!session) throw new Error('session vanished right after creation');
    return session;
  }

  /** Goes on from a session: to the service with a fresh ticket, or the "logged in" page. */
  async function proceed(res: Response, session: SsoSession, request: { service?: string; method: 'GET' | 'POST' }, fresh = true): Promise<void> {
    if (request.service === undefined) {
      res.status(200).type('html').send(loggedInPage(session.ticket.principal));
      return;
    }
    await sendToService(res, request, await services.issueServiceTicket(session, request.service, fresh));
  }

  /** After the first factor: the second-factor step when one is needed, else the session and the service. */
  async function afterFirstFactor(res: Response, result: Extract<LoginResult, { status: 'success' }>, request: ServiceRequest, firstFactor: string): Promise<void> {
    if (deps.secondFactor.needed(result, request)) {
      await deps.secondFactor.begin(res, result, request, firstFactor);
      return;
    }
    await proceed(res, await establish(res, result, [firstFactor]), request);
  }

  router.get('/cas/login', async (req, res) => {
    const request = readServiceRequest(queryParams(req));
    if (!(await allowedService(res, request))) return;
    const session = request.renew ? null : await deps.sessions.find(parseCookies(req.get('cookie')).get(TGC_COOKIE));
    if (session) {
      if (deps.secondFactor.stepUpNeeded(session, request)) {
        await deps.secondFactor.beginStepUp(res, session, request);
        return;
      }
      await proceed(res, session, request, false);
      return;
    }
    if (request.gateway && request.service !== undefined) {
      await sendToService(res, request, null);
      return;
    }
    if (deps.negotiate) {
      await negotiateLogin(req, res, deps.negotiate, request);
      return;
    }
    renderLogin(req, res, 200, { service: request });
  });

  /**
   * Integrated Windows sign-in: without an Authorization header, a 401 with
   * `WWW-Authenticate: Negotiate` and the login form as body (browsers that
   * cannot negotiate show the form); with a Negotiate token, the same login
   * path as a password. Failures fall back to the form without a new challenge.
   */
  async function negotiateLogin(req: Request, res: Response, negotiate: NegotiateAuthenticator, request: ServiceRequest): Promise<void> {
    const authorization = req.get('authorization');
    if (!NegotiateAuthenticator.isNegotiate(authorization)) {
      res.set('WWW-Authenticate', negotiate.challenge);
      renderLogin(req, res, 401, { service: request });
      return;
    }
    const outcome = await negotiate.authenticate(authorization, requestContext(req, 'spnego'));
    if (outcome.kind === 'refused') {
      renderLogin(req, res, outcome.status, { service: request, notice: { kind: 'error', text: outcome.message } });
      return;
    }
    if (outcome.responseToken) res.set('WWW-Authenticate', `Negotiate ${outcome.responseToken}`);
    if (outcome.result.status === 'success') {
      await afterFirstFactor(res, outcome.result, request, 'spnego');
      return;
    }
    const view = failureView(outcome.result);
    renderLogin(req, res, view.status, { service: request, notice: { kind: 'error', text: view.text } });
  }

  router.post('/cas/login', formBody, async (req, res) => {
    const form = formParams(req);
    const request = readServiceRequest(postedServiceParams(queryParams(req), form));
    if (!(await allowedService(res, request))) return;
    const username = form.get('username')?.trim() ?? '';
    if (!validExecution(req, form.get('execution'))) {
      renderLogin(req, res, 403, { service: request, username, notice: { kind: 'error', text: MESSAGES.formExpired } });
      return;
    }
    const password = form.get('password') ?? '';
    if (username.length === 0 || password.length === 0) {
      renderLogin(req, res, 400, { service: request, username, notice: { kind: 'error', text: MESSAGES.missing } });
      return;
    }
    assertPasswordSize(password);
    // Over-long names and control characters are refused (and audited) by the login service.

    const result = await deps.authenticatePassword(req, res, { username, password }, requestContext(req, 'login_form'));
    switch (result.status) {
      case 'success':
        if (result.passwordChange) {
          const token = signer.sign(
            PASSWORD_CHANGE_PURPOSE,
            { a: result.account.id, v: result.account.version, at: result.authenticatedAt, b: result.backend, s: request.service ?? null, m: request.method, r: result.passwordChange, f: request.mfa },
            clock.now() + PASSWORD_CHANGE_TTL_MS,
          );
          res.status(200).type('html').send(changePasswordPage({ token, username: result.account.username, reason: result.passwordChange }));
          return;
        }
        await afterFirstFactor(res, result, request, 'password');
        return;
      default: {
        const view = failureView(result);
        renderLogin(req, res, view.status, { service: request, username, notice: { kind: 'error', text: view.text } });
        return;
      }
    }
  });

  router.post('/cas/password', formBody, async (req, res) => {
    const form = formParams(req);
    const token = form.get('token');
    const data = signer.verify(PASSWORD_CHANGE_PURPOSE, token, clock.now());
    const account = data ? await deps.accountService.get(Number(data.a)).catch(() => null) : null;
    if (!data || !account || account.version !== data.v) {
      res.status(403).type('html').send(errorPage('Password change expired', 'This password change link has expired or was already used. Sign in again.'));
      return;
    }
    const password = form.get('password') ?? '';
    const rerender = (status: number, notice: Notice) =>
      res.status(status).type('html').send(changePasswordPage({ token: token as string, username: account.username, reason: data.r === 'expired' ? 'expired' : 'initial', notice }));
    if (password.length === 0) return rerender(400, { kind: 'error', text: 'Enter a new password twice.' });
    if (password !== form.get('confirm')) return rerender(400, { kind: 'error', text: 'The two passwords do not match.' });
    try {
      await deps.accountService.setPassword(account, password, { mustChange: false, actor: { name: account.username, clientIp: req.ip ?? null } });
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      return rerender(400, { kind: 'error', text: 'The new password was refused:', items: error.violations.length > 0 ? error.violations.map((v) => `It ${v.message}.`) : [error.message] });
    }
    const request: ServiceRequest = { service: typeof data.s === 'string' ? data.s : undefined, renew: false, gateway: false, method: data.m === 'POST' ? 'POST' : 'GET', mfa: data.f === true };
    if (!(await allowedService(res, request))) return;
    // The account as the password change left it (a new version): a second-factor step pending on the old one would be refused.
    const changed = await deps.accountService.get(account.id);
    const factors = await deps.secondFactor.enrolledKinds(changed.id);
    await afterFirstFactor(res, { status: 'success', account: changed, principal: { username: changed.username, source: changed.source, attributes: {} }, backend: String(data.b), authenticatedAt: Number(data.at), factors }, request, 'password');
  });

  router.use(deps.secondFactor.routes(formBody, { establish, proceed }));

  router.get('/cas/logout', async (req, res) => {
    const request = readServiceRequest(queryParams(req));
    const tgtId = parseCookies(req.get('cookie')).get(TGC_COOKIE);
    const session = await deps.sessions.find(tgtId);
    if (session) {
      await deps.sessions.destroy(session.tgtId);
      services.sessionEnded(session.ticket, session.tgtId);
      await deps.audit.append({ event: 'logout', outcome: 'success', username: session.ticket.principal, clientIp: req.ip ?? null, userAgent: req.get('user-agent') ?? null }, clock.now());
    }
    res.append('Set-Cookie', `${TGC_COOKIE}=; ${cookieAttributes}; Max-Age=0`);
    if (request.service !== undefined) {
      const check = await services.checkService(request.service);
      if (check.allowed) {
        res.redirect(303, check.service);
        return;
      }
    }
    res.status(200).type('html').send(loggedOutPage());
  });

  return router;
}

export { FORM_CONTENT_TYPE };
