import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, Router } from 'express';
import path from 'node:path';
import type { AccountService } from '../accounts/account-service';
import { assertPasswordSize } from '../accounts/account-service';
import type { LoginResult } from '../authn/login-service';
import { type LoginRefusal, refusalOf } from '../authn/refusals';
import type { NegotiateAuthenticator } from '../authn/windows/spnego';
import type { Config } from '../config/schema';
import type { EdgeAuthenticator } from '../http/passport';
import { FORM_CONTENT_TYPE, Params, formParams, parseCookies, queryParams } from '../http/params';
import type { AuditLog } from '../storage/audit-log';
import type { NoticeStore } from '../storage/notice-store';
import type { SessionService, SsoSession } from '../tickets/sessions';
import type { SecondFactorStep } from './second-factor';
import type { WebAuthnStep } from './webauthn-step';
import { passkeySection } from './webauthn-views';
import type { Clock } from '../shared/clock';
import { InputError, PolicyError } from '../shared/errors';
import { packageRoot } from '../shared/package-root';
import type { TokenSigner } from './signed-token';
import { type ServicePort, appendQueryParameter } from './service-port';
import { type Notice, changePasswordPage, errorPage, loggedInPage, loggedOutPage, loginPage, noticePage, postRedirectPage, violationTexts } from './views';
import type { MessageKey } from './i18n';
import type { WebUi } from './ui';

export const TGC_COOKIE = 'TGC';
export const LOGIN_NONCE_COOKIE = 'PCLOGIN';
const EXECUTION_PURPOSE = 'login-execution';
const PASSWORD_CHANGE_PURPOSE = 'password-change';
const EXECUTION_TTL_MS = 60 * 60 * 1000;
const PASSWORD_CHANGE_TTL_MS = 10 * 60 * 1000;
const NOTICE_PURPOSE = 'notice';
const NOTICE_TTL_MS = 30 * 60 * 1000;
const NOTICE_TOKEN_MAX = 48 * 1024;
export const MAX_SERVICE_LENGTH = 4096;
/** Where the "you are logged in" page sends an administrator (src/console). */
const CONSOLE_URL = '/admin';

/** Catalogue keys of the login page's messages (texts in src/web/locales). */
const MESSAGES = {
  invalid: 'login.invalid',
  locked: 'login.locked',
  disabled: 'login.disabled',
  formExpired: 'login.formExpired',
  missing: 'login.missing',
  account_expired: 'login.account_expired',
  account_disabled: 'login.account_disabled',
  password_expired: 'login.password_expired',
  password_must_change: 'login.password_must_change',
} as const satisfies Record<string, MessageKey>;

export interface LoginRouteDeps {
  config: Config;
  clock: Clock;
  /** Passport at the edge: the `form` and `negotiate` strategies read the request. */
  authenticate: EdgeAuthenticator;
  accountService: AccountService;
  sessions: SessionService;
  signer: TokenSigner;
  services: ServicePort;
  audit: AuditLog;
  ui: WebUi;
  notices: NoticeStore;
  /** Integrated Windows sign-in (SPNEGO) on GET /cas/login, when a windows backend enables it. */
  negotiate?: NegotiateAuthenticator;
  /** The second-factor step (src/web/second-factor.ts). */
  secondFactor: SecondFactorStep;
  /** Security keys and passkeys (src/web/webauthn-step.ts). */
  webauthn: WebAuthnStep;
}

/**
 * HTTP status and message key for a login that did not succeed (form and
 * integrated sign-in alike): the status is the refusal table's, the words
 * come from the page's language catalogue (English as in the table).
 */
function failureView(result: LoginRefusal): { status: number; key: MessageKey; reason?: string } {
  const { status } = refusalOf(result);
  switch (result.status) {
    case 'invalid':
      return { status, key: MESSAGES.invalid };
    case 'locked':
      return { status, key: MESSAGES.locked };
    case 'disabled':
      return { status, key: MESSAGES.disabled };
    case 'account_state':
      return { status, key: MESSAGES[result.reason] };
    case 'unavailable':
      return { status, key: 'login.unavailable', reason: result.reason };
  }
}

interface ServiceRequest {
  service?: string;
  /** The registered service's name, once checked (for its display name on the page). */
  name?: string;
  renew: boolean;
  gateway: boolean;
  method: 'GET' | 'POST';
  /** `authn_method=mfa`, or a service that requires it: this login must use a second factor. */
  mfa: boolean;
}

function flag(value: string | undefined): boolean {
  return value !== undefined && value !== 'false' && value !== '0';
}

const SERVICE_REQUEST_PARAMETERS = ['service', 'renew', 'gateway', 'method', 'authn_method'] as const;

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
  const { clock, signer, services, ui } = deps;

  function failureNotice(req: Request, view: ReturnType<typeof failureView>): Notice {
    const { t } = ui.translator(req);
    return { kind: 'error', text: t(view.key, view.reason === undefined ? undefined : { reason: view.reason }) };
  }

  router.use('/cas/static', express.static(path.join(packageRoot(), 'src', 'web', 'static'), { fallthrough: false, index: false, maxAge: '1h' }));
  router.use('/cas', (_req, res, next) => {
    noStore(res);
    next();
  });
  const formBody = express.raw({ type: () => true, limit: '64kb' });

  /** Login form with a fresh CSRF `execution` bound to the browser's nonce cookie. */
  function renderLogin(req: Request, res: Response, status: number, model: { service?: ServiceRequest; username?: string; notice?: Notice | MessageKey }): void {
    let nonce = parseCookies(req.get('cookie')).get(LOGIN_NONCE_COOKIE);
    if (!nonce || !/^[A-Za-z0-9_-]{22,64}$/.test(nonce)) {
      nonce = randomBytes(18).toString('base64url');
      res.append('Set-Cookie', `${LOGIN_NONCE_COOKIE}=${nonce}; ${cookieAttributes}`);
    }
    const execution = signer.sign(EXECUTION_PURPOSE, { n: nonce }, clock.now() + EXECUTION_TTL_MS);
    const page = ui.page(req, model.service?.service === undefined ? '/cas/login' : `/cas/login?service=${encodeURIComponent(model.service.service)}`);
    const shown = typeof model.notice === 'string' ? { kind: 'error' as const, text: page.tr.t(model.notice) } : model.notice;
    const fields = { execution, service: model.service?.service, renew: model.service?.renew, method: model.service?.method === 'POST' ? 'POST' : undefined };
    res.status(status).type('html').send(
      loginPage(page, { ...fields, serviceBrand: ui.serviceBranding(model.service?.name, page.tr.lang), username: model.username, notice: shown, passkey: passkeySection(page.tr, fields) }),
    );
  }

  function validExecution(req: Request, execution: string | undefined): boolean {
    const nonce = parseCookies(req.get('cookie')).get(LOGIN_NONCE_COOKIE);
    const data = signer.verify(EXECUTION_PURPOSE, execution, clock.now());
    return data !== null && nonce !== undefined && data.n === nonce;
  }

  /** Rejects an unregistered service with an error page; never redirects to it. */
  async function allowedService(req: Request, res: Response, request: ServiceRequest): Promise<boolean> {
    if (request.service === undefined) return true;
    const check = await services.checkService(request.service);
    if (check.allowed) {
      request.service = check.service;
      request.name = check.name;
      // A service that requires a second factor asks for one like `authn_method=mfa` does.
      request.mfa ||= check.mfaRequired;
      return true;
    }
    const page = ui.page(req);
    res.status(400).type('html').send(errorPage(page, page.tr.t('service.notAuthorizedTitle'), page.tr.t(`service.${check.code}`)));
    return false;
  }

  async function sendToService(req: Request, res: Response, request: { service?: string; method: 'GET' | 'POST' }, ticket: string | null): Promise<void> {
    const service = request.service as string;
    if (request.method === 'POST') {
      res.status(200).type('html').send(postRedirectPage(ui.page(req), service, ticket ? { ticket } : {}));
      return;
    }
    // Location only: express's redirect() also negotiates and renders a body nobody reads (single sign-on's hot path).
    res.status(303).location(ticket ? appendQueryParameter(service, 'ticket', ticket) : service).end();
  }

  /**
   * Shows the notice (ui.notice) instead of going on when this account has not
   * accepted its current version; `data` is what POST /cas/notice needs to go on.
   */
  async function noticeDue(req: Request, res: Response, accountId: number | null, data: Record<string, unknown>): Promise<boolean> {
    const notice = deps.config.ui.notice;
    if (!notice || accountId === null || (await deps.notices.hasAccepted(accountId, notice.version))) return false;
    const page = ui.page(req, '/cas/login');
    const token = signer.sign(NOTICE_PURPOSE, { ...data, a: accountId, v: notice.version }, clock.now() + NOTICE_TTL_MS);
    res.status(200).type('html').send(noticePage(page, ui.notice(page.tr.lang)!, token));
    return true;
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

  /** Goes on from a session: to the service with a ticket (after the notice, if due), or the "logged in" page. */
  async function proceed(req: Request, res: Response, session: SsoSession, request: { service?: string; method: 'GET' | 'POST' }, fresh = true): Promise<void> {
    if (request.service === undefined) {
      const account = session.ticket.accountId === null ? null : await deps.accountService.get(session.ticket.accountId).catch(() => null);
      res.status(200).type('html').send(loggedInPage(ui.page(req, '/cas/login'), session.ticket.principal, account?.role === 'admin' ? CONSOLE_URL : undefined));
      return;
    }
    if (!fresh && (await noticeDue(req, res, session.ticket.accountId, { k: 'sso', s: request.service, m: request.method }))) return;
    await sendToService(req, res, request, await services.issueServiceTicket(session, request.service, fresh));
  }

  /** Ends a successful login: notice if due, SSO session, cookie, then the service or the "logged in" page. */
  async function completeLogin(req: Request, res: Response, result: Extract<LoginResult, { status: 'success' }>, request: { service?: string; method: 'GET' | 'POST' }, methods: string[]): Promise<void> {
    const carried = { k: 'login', at: result.authenticatedAt, b: result.backend, s: request.service ?? null, m: request.method, attrs: result.principal.attributes, methods };
    if (await noticeDue(req, res, result.account.id, carried)) return;
    await proceed(req, res, await establish(res, result, methods), request);
  }

  /** After the first factor: the second-factor step when one is needed, else the notice, the session and the service. */
  async function afterFirstFactor(req: Request, res: Response, result: Extract<LoginResult, { status: 'success' }>, request: ServiceRequest, firstFactor: string): Promise<void> {
    if (deps.secondFactor.needed(result, request)) {
      await deps.secondFactor.begin(req, res, result, request, firstFactor);
      return;
    }
    await completeLogin(req, res, result, request, [firstFactor]);
  }

  router.get('/cas/login', async (req, res) => {
    const request = readServiceRequest(queryParams(req));
    if (!(await allowedService(req, res, request))) return;
    const session = request.renew ? null : await deps.sessions.find(parseCookies(req.get('cookie')).get(TGC_COOKIE));
    if (session) {
      if (deps.secondFactor.stepUpNeeded(session, request)) {
        // gateway promises no interaction: back to the service without a ticket rather than the step-up page.
        if (request.gateway && request.service !== undefined) await sendToService(req, res, request, null);
        else await deps.secondFactor.beginStepUp(req, res, session, request);
        return;
      }
      await proceed(req, res, session, request, false);
      return;
    }
    if (request.gateway && request.service !== undefined) {
      await sendToService(req, res, request, null);
      return;
    }
    if (deps.negotiate) {
      await negotiateLogin(req, res, request);
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
  async function negotiateLogin(req: Request, res: Response, request: ServiceRequest): Promise<void> {
    const outcome = await deps.authenticate('negotiate', req, res);
    if (outcome.kind === 'challenge') {
      res.set('WWW-Authenticate', outcome.challenge);
      renderLogin(req, res, 401, { service: request });
      return;
    }
    if (outcome.kind === 'refused') {
      renderLogin(req, res, outcome.status, { service: request, notice: { kind: 'error', text: outcome.message } });
      return;
    }
    if (outcome.responseToken) res.set('WWW-Authenticate', `Negotiate ${outcome.responseToken}`);
    if (outcome.result.status === 'success') {
      await afterFirstFactor(req, res, outcome.result, request, 'spnego');
      return;
    }
    const view = failureView(outcome.result);
    renderLogin(req, res, view.status, { service: request, notice: failureNotice(req, view) });
  }

  router.post('/cas/login', formBody, async (req, res) => {
    const form = formParams(req);
    const request = readServiceRequest(postedServiceParams(queryParams(req), form));
    if (!(await allowedService(req, res, request))) return;
    const username = form.get('username')?.trim() ?? '';
    if (!validExecution(req, form.get('execution'))) {
      renderLogin(req, res, 403, { service: request, username, notice: MESSAGES.formExpired });
      return;
    }
    const password = form.get('password') ?? '';
    if (username.length === 0 || password.length === 0) {
      renderLogin(req, res, 400, { service: request, username, notice: MESSAGES.missing });
      return;
    }
    assertPasswordSize(password);
    // Over-long names and control characters are refused (and audited) by the login service.

    const result = await deps.authenticate('form', req, res);
    switch (result.status) {
      case 'success':
        if (result.passwordChange) {
          const token = signer.sign(
            PASSWORD_CHANGE_PURPOSE,
            { a: result.account.id, v: result.account.version, at: result.authenticatedAt, b: result.backend, s: request.service ?? null, m: request.method, r: result.passwordChange, f: request.mfa },
            clock.now() + PASSWORD_CHANGE_TTL_MS,
          );
          const minLength = deps.accountService.passwordPolicyConfig().minLength;
          res.status(200).type('html').send(changePasswordPage(ui.page(req, '/cas/login'), { token, username: result.account.username, reason: result.passwordChange, minLength }));
          return;
        }
        await afterFirstFactor(req, res, result, request, 'password');
        return;
      default: {
        const view = failureView(result);
        renderLogin(req, res, view.status, { service: request, username, notice: failureNotice(req, view) });
        return;
      }
    }
  });

  router.post('/cas/password', formBody, async (req, res) => {
    const form = formParams(req);
    const token = form.get('token');
    const data = signer.verify(PASSWORD_CHANGE_PURPOSE, token, clock.now());
    const account = data ? await deps.accountService.get(Number(data.a)).catch(() => null) : null;
    const page = ui.page(req, '/cas/login');
    const { t } = page.tr;
    if (!data || !account || account.version !== data.v) {
      res.status(403).type('html').send(errorPage(page, t('password.linkExpiredTitle'), t('password.linkExpired')));
      return;
    }
    const password = form.get('password') ?? '';
    const minLength = deps.accountService.passwordPolicyConfig().minLength;
    const rerender = (status: number, notice: Notice) =>
      res.status(status).type('html').send(changePasswordPage(page, { token: token as string, username: account.username, reason: data.r === 'expired' ? 'expired' : 'initial', minLength, notice }));
    if (password.length === 0) return rerender(400, { kind: 'error', text: t('password.enterTwice') });
    if (password !== form.get('confirm')) return rerender(400, { kind: 'error', text: t('password.mismatch') });
    try {
      await deps.accountService.setPassword(account, password, { mustChange: false, actor: { name: account.username, clientIp: req.ip ?? null } });
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      return rerender(400, { kind: 'error', text: t('password.refused'), items: error.violations.length > 0 ? violationTexts(page.tr, error.violations) : [error.message] });
    }
    const request: ServiceRequest = { service: typeof data.s === 'string' ? data.s : undefined, renew: false, gateway: false, method: data.m === 'POST' ? 'POST' : 'GET', mfa: data.f === true };
    if (!(await allowedService(req, res, request))) return;
    // The account as the password change left it (a new version): a second-factor step pending on the old one would be refused.
    const changed = await deps.accountService.get(account.id);
    const factors = await deps.secondFactor.enrolledKinds(changed.id);
    await afterFirstFactor(req, res, { status: 'success', account: changed, principal: { username: changed.username, source: changed.source, attributes: {} }, backend: String(data.b), authenticatedAt: Number(data.at), factors }, request, 'password');
  });

  router.post('/cas/notice', formBody, async (req, res) => {
    const form = formParams(req);
    // The token carries the directory attributes of the sign-in (group lists can be long).
    const data = signer.verify(NOTICE_PURPOSE, form.get('token'), clock.now(), NOTICE_TOKEN_MAX);
    const page = ui.page(req, '/cas/login');
    const { t } = page.tr;
    const account = data ? await deps.accountService.get(Number(data.a)).catch(() => null) : null;
    if (!data || !account || data.v !== deps.config.ui.notice?.version) {
      res.status(403).type('html').send(errorPage(page, t('notice.expiredTitle'), t('notice.expired')));
      return;
    }
    const accepted = form.get('decision') === 'accept';
    const details = { version: data.v, language: page.tr.lang };
    if (!accepted || (await deps.notices.accept(account.id, String(data.v), page.tr.lang, clock.now()))) {
      await deps.audit.append({ event: accepted ? 'notice_accepted' : 'notice_declined', outcome: accepted ? 'success' : 'info', username: account.username, clientIp: req.ip ?? null, details }, clock.now());
    }
    if (!accepted) {
      res.status(200).type('html').send(errorPage(page, t('notice.declinedTitle'), t('notice.declined')));
      return;
    }
    const request: ServiceRequest = { service: typeof data.s === 'string' ? data.s : undefined, renew: false, gateway: false, method: data.m === 'POST' ? 'POST' : 'GET', mfa: false };
    if (!(await allowedService(req, res, request))) return;
    if (data.k === 'sso') {
      const session = await deps.sessions.find(parseCookies(req.get('cookie')).get(TGC_COOKIE));
      if (!session || session.ticket.accountId !== account.id || request.service === undefined) return renderLogin(req, res, 200, { service: request });
      await sendToService(req, res, request, await services.issueServiceTicket(session, request.service, false));
      return;
    }
    const attributes = (data.attrs ?? {}) as Record<string, string[]>;
    // The factors were proven before the notice was shown; the signed token carries them on.
    const methods = Array.isArray(data.methods) ? data.methods.map(String) : ['password'];
    const factors = await deps.secondFactor.enrolledKinds(account.id);
    await completeLogin(req, res, { status: 'success', account, principal: { username: account.username, source: account.source, attributes }, backend: String(data.b), authenticatedAt: Number(data.at), factors }, request, methods);
  });

  router.use(deps.secondFactor.routes(formBody, { establish, proceed, complete: completeLogin }));
  router.use(
    deps.webauthn.routes(formBody, { establish, proceed, complete: completeLogin }, {
      // The passkey form passes the password form's checks (registered service, CSRF execution).
      async request(req, res) {
        const form = formParams(req);
        const request = readServiceRequest(postedServiceParams(queryParams(req), form));
        if (!(await allowedService(req, res, request))) return null;
        if (validExecution(req, form.get('execution'))) return request;
        renderLogin(req, res, 403, { service: request, notice: MESSAGES.formExpired });
        return null;
      },
      refuse: (req, res, status, message, request) => renderLogin(req, res, status, { service: request, notice: message }),
    }),
  );

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
    res.status(200).type('html').send(loggedOutPage(ui.page(req, '/cas/login')));
  });

  return router;
}

export { FORM_CONTENT_TYPE };
