/**
 * The steps of a CAS login (Apereo's webflow actions), each a method the
 * routes in ./routes.ts run in order. A step either answers (a page, a
 * redirect) and the login stops there, or hands on to the next.
 */
import type { Request, Response } from 'express';
import type { AccountService } from '../../accounts/account-service';
import { assertPasswordSize } from '../../accounts/account-service';
import type { LoginResult } from '../../authn/login-service';
import type { NegotiateAuthenticator } from '../../authn/windows/spnego';
import type { Config } from '../../config/schema';
import type { EdgeAuthenticator } from '../../http/passport';
import type { Params } from '../../http/params';
import type { NoticeStore } from '../../storage/notice-store';
import type { SessionService, SsoSession } from '../../tickets/sessions';
import type { SecondFactorStep } from '../../web/second-factor';
import { type ServicePort, appendQueryParameter } from './service-port';
import { readTgc, setTgc } from './cookies';
import type { LoginPages, LoginSuccess } from './pages';
import type { ServiceRequest } from './request';

/** Where the "you are logged in" page sends an administrator (src/console). */
const CONSOLE_URL = '/admin';

export interface LoginFlowDeps {
  config: Config;
  /** Passport at the edge: the `form` and `negotiate` strategies read the request (src/http/passport.ts). */
  authenticate: EdgeAuthenticator;
  accountService: AccountService;
  sessions: SessionService;
  servicePort: ServicePort;
  notices: NoticeStore;
  pages: LoginPages;
  /** Integrated Windows sign-in (SPNEGO) on GET /cas/login, when a windows backend enables it. */
  negotiate?: NegotiateAuthenticator;
  /** The second-factor step (src/web/second-factor.ts). */
  secondFactor: SecondFactorStep;
}

/** Where a login goes once it has a session. */
type Destination = Pick<ServiceRequest, 'service' | 'method'>;

export class LoginFlow {
  constructor(private readonly deps: LoginFlowDeps) {}

  /** Service check: an unregistered service gets an error page (never a redirect); a registered one may demand a second factor. */
  async checkService(req: Request, res: Response, request: ServiceRequest): Promise<boolean> {
    if (request.service === undefined) return true;
    const check = await this.deps.servicePort.checkService(request.service);
    if (!check.allowed) {
      this.deps.pages.serviceRefused(req, res, check.code);
      return false;
    }
    request.service = check.service;
    request.name = check.name;
    request.mfa ||= check.mfaRequired;
    return true;
  }

  /** Session: the browser's single sign-on session, unless `renew` asks for the credentials again. */
  async ssoSession(req: Request, request: ServiceRequest): Promise<SsoSession | null> {
    return request.renew ? null : this.deps.sessions.find(readTgc(req));
  }

  /** Single sign-on: a step-up when the service wants a second factor the session lacks, else on to the service. */
  async fromSession(req: Request, res: Response, session: SsoSession, request: ServiceRequest): Promise<void> {
    if (!this.deps.secondFactor.stepUpNeeded(session, request)) return this.proceed(req, res, session, request, false);
    // gateway promises no interaction: back to the service without a ticket rather than the step-up page.
    if (request.gateway && request.service !== undefined) return this.sendToService(req, res, request, null);
    await this.deps.secondFactor.beginStepUp(req, res, session, request);
  }

  /** No session: gateway goes back untouched, SPNEGO is offered when enabled, else the form. */
  async withoutSession(req: Request, res: Response, request: ServiceRequest): Promise<void> {
    if (request.gateway && request.service !== undefined) return this.sendToService(req, res, request, null);
    if (this.deps.negotiate) return this.negotiateLogin(req, res, request);
    this.deps.pages.form(req, res, 200, { service: request });
  }

  /**
   * Credentials, integrated Windows sign-in: without an Authorization header,
   * a 401 with `WWW-Authenticate: Negotiate` and the login form as body
   * (browsers that cannot negotiate show the form); with a Negotiate token,
   * the same login path as a password. Failures fall back to the form
   * without a new challenge.
   */
  async negotiateLogin(req: Request, res: Response, request: ServiceRequest): Promise<void> {
    const outcome = await this.deps.authenticate('negotiate', req, res);
    if (outcome.kind === 'challenge') {
      res.set('WWW-Authenticate', outcome.challenge);
      return this.deps.pages.form(req, res, 401, { service: request });
    }
    if (outcome.kind === 'refused') return this.deps.pages.form(req, res, outcome.status, { service: request, notice: { kind: 'error', text: outcome.message } });
    if (outcome.responseToken) res.set('WWW-Authenticate', `Negotiate ${outcome.responseToken}`);
    if (outcome.result.status === 'success') return this.afterFirstFactor(req, res, outcome.result, request, 'spnego');
    this.deps.pages.refused(req, res, outcome.result, { service: request });
  }

  /** Credentials, the password form: a fresh form of this browser, both fields filled, then the password check. */
  async passwordLogin(req: Request, res: Response, form: Params, request: ServiceRequest): Promise<void> {
    const { pages } = this.deps;
    const username = form.get('username')?.trim() ?? '';
    if (!pages.validExecution(req, form.get('execution'))) return pages.form(req, res, 403, { service: request, username, notice: 'login.formExpired' });
    const password = form.get('password') ?? '';
    if (username.length === 0 || password.length === 0) return pages.form(req, res, 400, { service: request, username, notice: 'login.missing' });
    assertPasswordSize(password);
    // Over-long names and control characters are refused (and audited) by the login service.
    const result = await this.checkPassword(req, res);
    if (result.status !== 'success') return pages.refused(req, res, result, { service: request, username });
    // Policy: a password that must change is changed before anything else.
    if (result.passwordChange) return pages.passwordChange(req, res, result, result.passwordChange, request);
    await this.afterFirstFactor(req, res, result, request, 'password');
  }

  /** The one call into passport: its `form` strategy reads the same fields from the request (src/http/passport.ts). */
  private checkPassword(req: Request, res: Response): Promise<LoginResult> {
    return this.deps.authenticate('form', req, res);
  }

  /** Policy, after the first factor: the second-factor step when one is needed, else the notice, the session and the service. */
  async afterFirstFactor(req: Request, res: Response, result: LoginSuccess, request: ServiceRequest, firstFactor: string): Promise<void> {
    if (this.deps.secondFactor.needed(result, request)) return this.deps.secondFactor.begin(req, res, result, request, firstFactor);
    await this.complete(req, res, result, request, [firstFactor]);
  }

  /** Ends a successful login: notice if due, SSO session, cookie, then the service or the "logged in" page. */
  async complete(req: Request, res: Response, result: LoginSuccess, request: Destination, methods: string[]): Promise<void> {
    const carried = { k: 'login', at: result.authenticatedAt, b: result.backend, s: request.service ?? null, m: request.method, attrs: result.principal.attributes, methods };
    if (await this.noticeDue(req, res, result.account.id, carried)) return;
    await this.proceed(req, res, await this.establish(res, result, methods), request);
  }

  /**
   * Policy, the notice: shown instead of going on when this account has not
   * accepted its current version; `carried` is what POST /cas/notice needs to go on.
   */
  private async noticeDue(req: Request, res: Response, accountId: number | null, carried: Record<string, unknown>): Promise<boolean> {
    const notice = this.deps.config.ui.notice;
    if (!notice || accountId === null || (await this.deps.notices.hasAccepted(accountId, notice.version))) return false;
    this.deps.pages.notice(req, res, { ...carried, a: accountId, v: notice.version });
    return true;
  }

  /** Ticket, the session: creates the single sign-on session (TGT) for a complete login and sets its cookie. */
  async establish(res: Response, result: LoginSuccess, methods: string[]): Promise<SsoSession> {
    const tgtId = await this.deps.sessions.create(result.account.username, result.account.id, {
      authenticatedAt: result.authenticatedAt,
      backend: result.backend,
      attributes: result.principal.attributes,
      methods,
    });
    setTgc(res, tgtId);
    const session = await this.deps.sessions.find(tgtId);
    if (!session) throw new Error('session vanished right after creation');
    return session;
  }

  /** Ticket: from a session to the service with a service ticket (after the notice, if due), or the "logged in" page. */
  async proceed(req: Request, res: Response, session: SsoSession, request: Destination, fresh = true): Promise<void> {
    if (request.service === undefined) {
      const account = session.ticket.accountId === null ? null : await this.deps.accountService.get(session.ticket.accountId).catch(() => null);
      return this.deps.pages.loggedIn(req, res, session.ticket.principal, account?.role === 'admin' ? CONSOLE_URL : undefined);
    }
    if (!fresh && (await this.noticeDue(req, res, session.ticket.accountId, { k: 'sso', s: request.service, m: request.method }))) return;
    await this.sendToService(req, res, request, await this.deps.servicePort.issueServiceTicket(session, request.service, fresh));
  }

  /** After the notice was accepted on a single sign-on: the ticket the session was on its way to, if it is still this account's. */
  async resumeSso(req: Request, res: Response, request: ServiceRequest, accountId: number): Promise<void> {
    const session = await this.deps.sessions.find(readTgc(req));
    if (!session || session.ticket.accountId !== accountId || request.service === undefined) return this.deps.pages.form(req, res, 200, { service: request });
    await this.sendToService(req, res, request, await this.deps.servicePort.issueServiceTicket(session, request.service, false));
  }

  /** Redirect: to the service, with the ticket when there is one (303, or a self-posting form for `method=POST`). */
  async sendToService(req: Request, res: Response, request: Destination, ticket: string | null): Promise<void> {
    const service = request.service as string;
    if (request.method === 'POST') return this.deps.pages.postRedirect(req, res, service, ticket);
    // Location only: express's redirect() also negotiates and renders a body nobody reads (single sign-on's hot path).
    res.status(303).location(ticket ? appendQueryParameter(service, 'ticket', ticket) : service).end();
  }
}
