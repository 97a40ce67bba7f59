/**
 * The pages of the CAS login flow (src/cas/login/ decides which, and when):
 * the login form with its CSRF `execution`, refusals in the page's language,
 * the password change and notice pages with their own form posts (which hand
 * the login back to the flow), and the static files the pages use.
 */
import { randomBytes } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response, Router } from 'express';
import path from 'node:path';
import type { AccountService } from '../accounts/account-service';
import { type LoginRefusal, refusalOf } from '../authn/refusals';
import type { PasswordChangeReason } from '../authn/login-service';
import type { LoginFlow } from '../cas/login/flow';
import type { FormModel, LoginSuccess } from '../cas/login/pages';
import type { RoutedLoginPages } from '../cas/login/routes';
import { COOKIE_ATTRIBUTES } from '../cas/login/cookies';
import { type ServiceRequest, resumedRequest } from '../cas/login/request';
import type { Config } from '../config/schema';
import { formParams, parseCookies } from '../http/params';
import type { AuditLog } from '../storage/audit-log';
import type { NoticeStore } from '../storage/notice-store';
import type { Clock } from '../shared/clock';
import { PolicyError } from '../shared/errors';
import { packageRoot } from '../shared/package-root';
import type { MessageKey } from './i18n';
import type { SecondFactorStep } from './second-factor';
import type { TokenSigner } from './signed-token';
import type { WebUi } from './ui';
import { type Notice, changePasswordPage, errorPage, loggedInPage, loggedOutPage, loginPage, noticePage, postRedirectPage, violationTexts } from './views';
import { passkeySection } from './webauthn-views';

/** webauthn-step.ts reads the session cookie by this name. */
export { TGC_COOKIE } from '../cas/login/cookies';
export const LOGIN_NONCE_COOKIE = 'PCLOGIN';
const EXECUTION_PURPOSE = 'login-execution';
const PASSWORD_CHANGE_PURPOSE = 'password-change';
const EXECUTION_TTL_MS = 60 * 60 * 1000;
const PASSWORD_CHANGE_TTL_MS = 10 * 60 * 1000;
const NOTICE_PURPOSE = 'notice';
const NOTICE_TTL_MS = 30 * 60 * 1000;
const NOTICE_TOKEN_MAX = 48 * 1024;

/** Catalogue keys of refused logins (texts in src/web/locales). */
const REFUSAL_MESSAGES = {
  invalid: 'login.invalid',
  locked: 'login.locked',
  disabled: 'login.disabled',
  account_expired: 'login.account_expired',
  account_disabled: 'login.account_disabled',
  password_expired: 'login.password_expired',
  password_must_change: 'login.password_must_change',
} as const satisfies Record<string, MessageKey>;

/**
 * HTTP status and message for a login that did not succeed (form and
 * integrated sign-in alike): the status is the refusal table's, the words
 * come from the page's language catalogue (English as in the table).
 */
function failureView(result: LoginRefusal): { status: number; key: MessageKey; reason?: string } {
  const { status } = refusalOf(result);
  switch (result.status) {
    case 'invalid':
    case 'locked':
    case 'disabled':
      return { status, key: REFUSAL_MESSAGES[result.status] };
    case 'account_state':
      return { status, key: REFUSAL_MESSAGES[result.reason] };
    case 'unavailable':
      return { status, key: 'login.unavailable', reason: result.reason };
  }
}

/** The page's CSS, scripts and images under /cas/static (cached; mounted before the no-store of /cas). */
export function loginAssetRoutes(): Router {
  return Router().use('/cas/static', express.static(path.join(packageRoot(), 'src', 'web', 'static'), { fallthrough: false, index: false, maxAge: '1h' }));
}

export interface LoginPageDeps {
  config: Config;
  clock: Clock;
  signer: TokenSigner;
  ui: WebUi;
  accountService: AccountService;
  notices: NoticeStore;
  audit: AuditLog;
  secondFactor: SecondFactorStep;
}

export class HtmlLoginPages implements RoutedLoginPages {
  constructor(private readonly deps: LoginPageDeps) {}

  form(req: Request, res: Response, status: number, model: FormModel): void {
    const { ui, signer, clock } = this.deps;
    let nonce = parseCookies(req.get('cookie')).get(LOGIN_NONCE_COOKIE);
    if (!nonce || !/^[A-Za-z0-9_-]{22,64}$/.test(nonce)) {
      nonce = randomBytes(18).toString('base64url');
      res.append('Set-Cookie', `${LOGIN_NONCE_COOKIE}=${nonce}; ${COOKIE_ATTRIBUTES}`);
    }
    const execution = signer.sign(EXECUTION_PURPOSE, { n: nonce }, clock.now() + EXECUTION_TTL_MS);
    const page = ui.page(req, model.service?.service === undefined ? '/cas/login' : `/cas/login?service=${encodeURIComponent(model.service.service)}`);
    const shown = typeof model.notice === 'string' ? { kind: 'error' as const, text: page.tr.t(model.notice) } : model.notice;
    const fields = { execution, service: model.service?.service, renew: model.service?.renew, method: model.service?.method === 'POST' ? 'POST' : undefined };
    res.status(status).type('html').send(
      loginPage(page, { ...fields, serviceBrand: ui.serviceBranding(model.service?.name, page.tr.lang), username: model.username, notice: shown, passkey: passkeySection(page.tr, fields) }),
    );
  }

  refused(req: Request, res: Response, refusal: LoginRefusal, model: FormModel): void {
    const view = failureView(refusal);
    const { t } = this.deps.ui.translator(req);
    const notice: Notice = { kind: 'error', text: t(view.key, view.reason === undefined ? undefined : { reason: view.reason }) };
    this.form(req, res, view.status, { ...model, notice });
  }

  validExecution(req: Request, execution: string | undefined): boolean {
    const nonce = parseCookies(req.get('cookie')).get(LOGIN_NONCE_COOKIE);
    const data = this.deps.signer.verify(EXECUTION_PURPOSE, execution, this.deps.clock.now());
    return data !== null && nonce !== undefined && data.n === nonce;
  }

  serviceRefused(req: Request, res: Response, code: 'bad_url' | 'not_registered'): void {
    const page = this.deps.ui.page(req);
    res.status(400).type('html').send(errorPage(page, page.tr.t('service.notAuthorizedTitle'), page.tr.t(`service.${code}`)));
  }

  loggedIn(req: Request, res: Response, principal: string, consoleUrl: string | undefined): void {
    res.status(200).type('html').send(loggedInPage(this.deps.ui.page(req, '/cas/login'), principal, consoleUrl));
  }

  loggedOut(req: Request, res: Response): void {
    res.status(200).type('html').send(loggedOutPage(this.deps.ui.page(req, '/cas/login')));
  }

  postRedirect(req: Request, res: Response, service: string, ticket: string | null): void {
    res.status(200).type('html').send(postRedirectPage(this.deps.ui.page(req), service, ticket ? { ticket } : {}));
  }

  passwordChange(req: Request, res: Response, result: LoginSuccess, reason: PasswordChangeReason, request: ServiceRequest): void {
    const { account } = result;
    const carried = { a: account.id, v: account.version, at: result.authenticatedAt, b: result.backend, s: request.service ?? null, m: request.method, r: reason, f: request.mfa };
    const token = this.deps.signer.sign(PASSWORD_CHANGE_PURPOSE, carried, this.deps.clock.now() + PASSWORD_CHANGE_TTL_MS);
    const minLength = this.deps.accountService.passwordPolicyConfig().minLength;
    res.status(200).type('html').send(changePasswordPage(this.deps.ui.page(req, '/cas/login'), { token, username: account.username, reason, minLength }));
  }

  notice(req: Request, res: Response, carried: Record<string, unknown>): void {
    const page = this.deps.ui.page(req, '/cas/login');
    const token = this.deps.signer.sign(NOTICE_PURPOSE, carried, this.deps.clock.now() + NOTICE_TTL_MS);
    res.status(200).type('html').send(noticePage(page, this.deps.ui.notice(page.tr.lang)!, token));
  }

  routes(flow: LoginFlow, formBody: RequestHandler): Router {
    const router = Router();
    router.post('/cas/password', formBody, (req, res) => this.changePassword(req, res, flow));
    router.post('/cas/notice', formBody, (req, res) => this.answerNotice(req, res, flow));
    return router;
  }

  /** POST /cas/password: the new password, then the login goes on where it stopped. */
  private async changePassword(req: Request, res: Response, flow: LoginFlow): Promise<void> {
    const { accountService, signer, clock } = this.deps;
    const form = formParams(req);
    const token = form.get('token');
    const data = signer.verify(PASSWORD_CHANGE_PURPOSE, token, clock.now());
    const account = data ? await accountService.get(Number(data.a)).catch(() => null) : null;
    const page = this.deps.ui.page(req, '/cas/login');
    const { t } = page.tr;
    if (!data || !account || account.version !== data.v) {
      res.status(403).type('html').send(errorPage(page, t('password.linkExpiredTitle'), t('password.linkExpired')));
      return;
    }
    const password = form.get('password') ?? '';
    const minLength = accountService.passwordPolicyConfig().minLength;
    const rerender = (status: number, notice: Notice) =>
      void res.status(status).type('html').send(changePasswordPage(page, { token: token as string, username: account.username, reason: data.r === 'expired' ? 'expired' : 'initial', minLength, notice }));
    if (password.length === 0) return rerender(400, { kind: 'error', text: t('password.enterTwice') });
    if (password !== form.get('confirm')) return rerender(400, { kind: 'error', text: t('password.mismatch') });
    try {
      await accountService.setPassword(account, password, { mustChange: false, actor: { name: account.username, clientIp: req.ip ?? null } });
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      return rerender(400, { kind: 'error', text: t('password.refused'), items: error.violations.length > 0 ? violationTexts(page.tr, error.violations) : [error.message] });
    }
    const request = resumedRequest(data.s, data.m, data.f === true);
    if (!(await flow.checkService(req, res, request))) return;
    // The account as the password change left it (a new version): a second-factor step pending on the old one would be refused.
    const changed = await accountService.get(account.id);
    const factors = await this.deps.secondFactor.enrolledKinds(changed.id);
    const principal = { username: changed.username, source: changed.source, attributes: {} };
    await flow.afterFirstFactor(req, res, { status: 'success', account: changed, principal, backend: String(data.b), authenticatedAt: Number(data.at), factors }, request, 'password');
  }

  /** POST /cas/notice: accepted (recorded once per version) goes on with the login; declined stops it. */
  private async answerNotice(req: Request, res: Response, flow: LoginFlow): Promise<void> {
    const { accountService, signer, clock, notices, audit } = this.deps;
    const form = formParams(req);
    // The token carries the directory attributes of the sign-in (group lists can be long).
    const data = signer.verify(NOTICE_PURPOSE, form.get('token'), clock.now(), NOTICE_TOKEN_MAX);
    const page = this.deps.ui.page(req, '/cas/login');
    const { t } = page.tr;
    const account = data ? await accountService.get(Number(data.a)).catch(() => null) : null;
    if (!data || !account || data.v !== this.deps.config.ui.notice?.version) {
      res.status(403).type('html').send(errorPage(page, t('notice.expiredTitle'), t('notice.expired')));
      return;
    }
    const accepted = form.get('decision') === 'accept';
    const details = { version: data.v, language: page.tr.lang };
    if (!accepted || (await notices.accept(account.id, String(data.v), page.tr.lang, clock.now()))) {
      await audit.append({ event: accepted ? 'notice_accepted' : 'notice_declined', outcome: accepted ? 'success' : 'info', username: account.username, clientIp: req.ip ?? null, details }, clock.now());
    }
    if (!accepted) {
      res.status(200).type('html').send(errorPage(page, t('notice.declinedTitle'), t('notice.declined')));
      return;
    }
    const request = resumedRequest(data.s, data.m, false);
    if (!(await flow.checkService(req, res, request))) return;
    if (data.k === 'sso') return flow.resumeSso(req, res, request, account.id);
    const attributes = (data.attrs ?? {}) as Record<string, string[]>;
    // The factors were proven before the notice was shown; the signed token carries them on.
    const methods = Array.isArray(data.methods) ? data.methods.map(String) : ['password'];
    const factors = await this.deps.secondFactor.enrolledKinds(account.id);
    await flow.complete(req, res, { status: 'success', account, principal: { username: account.username, source: account.source, attributes }, backend: String(data.b), authenticatedAt: Number(data.at), factors }, request, methods);
  }
}
