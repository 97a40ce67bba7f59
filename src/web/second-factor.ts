/**
 * The second-factor step of the login pages: after the first factor (password
 * or SPNEGO), an account with factors enters a code; an account that must use
 * a factor and has none enrols an authenticator app first (no e-mail, before
 * any ticket is issued); a session without a second factor steps up when a
 * login asks for one (`authn_method=mfa`), without the password again.
 *
 * The pending login travels in a signed, short-lived form token (no server
 * session), so any instance can finish a step another one began.
 */
import { type Request, type RequestHandler, type Response, Router } from 'express';
import type { AccountService } from '../accounts/account-service';
import type { LoginResult } from '../authn/login-service';
import { refusalOf } from '../authn/refusals';
import { formParams } from '../http/params';
import { requestContext } from '../http/request-context';
import type { MfaService } from '../mfa/mfa-service';
import type { Account } from '../accounts/account';
import type { FactorKind } from '../storage/mfa-store';
import type { Clock } from '../shared/clock';
import type { SsoSession } from '../tickets/sessions';
import { methodsOf } from '../tickets/sessions';
import { enrolTotpPage, recoveryCodesPage, secondFactorPage } from './mfa-views';
import { type MessageKey, isMessageKey } from './i18n';
import { KEY_MESSAGES, addKeySection, securityKeySection } from './webauthn-views';
import type { TokenSigner } from './signed-token';
import { type Page, errorPage } from './views';

export const CODE_PURPOSE = 'second-factor';
export const ENROL_PURPOSE = 'second-factor-enrol';
const PENDING_TTL_MS = 10 * 60 * 1000;

type Success = Extract<LoginResult, { status: 'success' }>;

/** The login request a pending step resumes (service, method) as the login pages keep it. */
export interface ResumableRequest {
  service?: string;
  method: 'GET' | 'POST';
  /** `authn_method=mfa` (Apereo's parameter) or a service registered with `mfa: required`: this login must use a second factor. */
  mfa: boolean;
}

/** A first factor passed, the second still to come. */
interface Pending {
  account: number;
  version: number;
  authenticatedAt: number;
  backend: string;
  methods: string[];
  attributes: Record<string, string[]>;
  service: string | null;
  method: 'GET' | 'POST';
  /** The session a step-up upgrades (TGT id), when there is one. */
  session: string | null;
}

export interface SecondFactorDeps {
  mfa: MfaService;
  signer: TokenSigner;
  clock: Clock;
  accountService: AccountService;
  findSession(tgtId: string): Promise<SsoSession | null>;
  addSessionMethod(session: SsoSession, method: string): Promise<boolean>;
  /** Language and branding of the page being answered (src/web/ui.ts). */
  page(req: Request): Page;
  /** Whether the account has a WebAuthn key (the code page then offers it). */
  hasKeys(accountId: number): Promise<boolean>;
}

/** What the login pages do once every factor is in. */
export interface Finishers {
  /** Creates the single sign-on session and sets its cookie. */
  establish(res: Response, result: Success, methods: string[]): Promise<SsoSession>;
  /** Goes on from a session to the service with a ticket (or shows the signed-in page). */
  proceed(req: Request, res: Response, session: SsoSession, request: ResumableRequest): Promise<void>;
  /** Completes a login: the notice if due, the session, then the service. */
  complete(req: Request, res: Response, result: Success, request: ResumableRequest, methods: string[]): Promise<void>;
}

export class SecondFactorStep {
  constructor(private readonly deps: SecondFactorDeps) {}

  async enrolledKinds(accountId: number): Promise<FactorKind[]> {
    return this.deps.mfa.enrolledKinds(accountId);
  }

  /** Whether this login needs a second factor after its first one (no session yet). */
  needed(result: Success, request: ResumableRequest): boolean {
    return this.deps.mfa.secondFactorNeeded({ account: { role: result.account.role, enrolled: result.factors }, requested: request.mfa, sessionMethods: [] });
  }

  /** Whether an existing session must step up for this request, decided from the session alone (no I/O on the single sign-on path). */
  stepUpNeeded(session: SsoSession, request: ResumableRequest): boolean {
    return this.deps.mfa.secondFactorNeeded({ requested: request.mfa, sessionMethods: methodsOf(session.authentication) });
  }

  /** Shows the code form, or the enrolment form for an account with no factor yet. */
  async begin(req: Request, res: Response, result: Success, request: ResumableRequest, firstFactor: string): Promise<void> {
    const pending: Pending = {
      account: result.account.id,
      version: result.account.version,
      authenticatedAt: result.authenticatedAt,
      backend: result.backend,
      methods: [firstFactor],
      attributes: result.principal.attributes,
      service: request.service ?? null,
      method: request.method,
      session: null,
    };
    await this.show(req, res, result.account, pending, 200);
  }

  /** Step-up of a live session: only the second factor, never the password again. */
  async beginStepUp(req: Request, res: Response, session: SsoSession, request: ResumableRequest): Promise<void> {
    const account = session.ticket.accountId === null ? null : await this.deps.accountService.get(session.ticket.accountId).catch(() => null);
    if (!account) {
      const page = this.deps.page(req);
      res.status(403).type('html').send(errorPage(page, page.tr.t('mfa.noAccountTitle'), page.tr.t('mfa.noAccount')));
      return;
    }
    const { authentication } = session;
    const pending: Pending = {
      account: account.id,
      version: account.version,
      authenticatedAt: authentication.authenticatedAt,
      backend: authentication.backend,
      methods: authentication.methods ?? ['password'],
      attributes: authentication.attributes,
      service: request.service ?? null,
      method: request.method,
      session: session.tgtId,
    };
    await this.show(req, res, account, pending, 200);
  }

  routes(formBody: RequestHandler, finish: Finishers): Router {
    const router = Router();
    router.post('/cas/mfa', formBody, (req, res) => this.verifyCode(req, res, finish));
    router.post('/cas/mfa/enrol', formBody, (req, res) => this.confirmEnrolment(req, res, finish));
    return router;
  }

  /** The code page (with "Use a security key" when the account has one), or enrolment (app or key) for an account with no factor. */
  async show(req: Request, res: Response, account: Account, pending: Pending, status: number, error?: MessageKey | string): Promise<void> {
    const page = this.deps.page(req);
    const notice = error ? { kind: 'error' as const, text: isMessageKey(error) ? page.tr.t(error) : error } : undefined;
    if ((await this.deps.mfa.enrolledKinds(account.id)).length > 0) {
      const token = this.deps.signer.sign(CODE_PURPOSE, { ...pending }, this.deps.clock.now() + PENDING_TTL_MS);
      const keys = (await this.deps.hasKeys(account.id)) ? securityKeySection(page.tr, token) : null;
      res.status(status).type('html').send(secondFactorPage(page, { token, username: account.username, notice: notice ?? (keys ? { kind: 'info', text: page.tr.t(KEY_MESSAGES.codeOrKey) } : undefined), keys }));
      return;
    }
    const enrolment = await this.deps.mfa.beginTotp(account);
    const token = this.deps.signer.sign(ENROL_PURPOSE, { ...pending, secret: enrolment.secret }, this.deps.clock.now() + PENDING_TTL_MS);
    res.status(status).type('html').send(
      enrolTotpPage(page, { token, username: account.username, secret: enrolment.secret, qrSvg: enrolment.qrSvg, notice: notice ?? { kind: 'info', text: page.tr.t(KEY_MESSAGES.enrolChoice) }, keys: addKeySection(page.tr, token) }),
    );
  }

  /** The pending login a form token carries, if it is genuine, fresh, and its account unchanged and enabled. */
  async resume(purpose: string, token: string | undefined): Promise<{ pending: Pending & { secret?: string }; account: Account } | null> {
    const data = this.deps.signer.verify(purpose, token, this.deps.clock.now());
    if (!data) return null;
    const pending = data as unknown as Pending & { secret?: string };
    const account = await this.deps.accountService.get(Number(pending.account)).catch(() => null);
    // A changed account (password reset, role change, disabled) invalidates a login in progress.
    if (!account || !account.enabled || account.version !== pending.version) return null;
    return { pending, account };
  }

  private async verifyCode(req: Request, res: Response, finish: Finishers): Promise<void> {
    const form = formParams(req);
    const resumed = await this.resume(CODE_PURPOSE, form.get('token'));
    if (!resumed) return this.expired(req, res);
    const { pending, account } = resumed;
    const code = form.get('code')?.trim() ?? '';
    if (code === '') return this.show(req, res, account, pending, 400, 'mfa.enterCode');
    const verdict = await this.deps.mfa.verify(account, code, requestContext(req, 'login_form'));
    // Locked reads as the login page says it (refusal table status, catalogue words).
    if (verdict.status === 'locked') return this.show(req, res, account, pending, refusalOf(verdict).status, 'login.locked');
    if (verdict.status === 'invalid') return this.show(req, res, account, pending, 401, 'mfa.wrongCode');
    await this.complete(req, res, pending, account, verdict.factor, finish);
  }

  /** The second factor is in: the notice if due and a new session, or the stepped-up one; then on to the service. */
  async complete(req: Request, res: Response, pending: Pending, account: Account, factor: string, finish: Finishers): Promise<void> {
    const request: ResumableRequest = { service: pending.service ?? undefined, method: pending.method, mfa: true };
    if (pending.session === null) return finish.complete(req, res, successOf(pending, account), request, [...pending.methods, factor]);
    const session = await this.stepUp(pending.session, factor);
    if (!session) return this.expired(req, res);
    await finish.proceed(req, res, session, request);
  }

  /** The step-up's session with the second factor recorded, or null when it ended meanwhile. */
  private async stepUp(tgtId: string, factor: string): Promise<SsoSession | null> {
    const session = await this.deps.findSession(tgtId);
    if (!session || !(await this.deps.addSessionMethod(session, factor))) return null;
    return this.deps.findSession(tgtId);
  }

  private async confirmEnrolment(req: Request, res: Response, finish: Finishers): Promise<void> {
    const form = formParams(req);
    const resumed = await this.resume(ENROL_PURPOSE, form.get('token'));
    const secret = resumed?.pending.secret;
    if (!resumed || typeof secret !== 'string') return this.expired(req, res);
    const { pending, account } = resumed;
    const confirmed = await this.deps.mfa.confirmTotp(account, secret, form.get('code') ?? '', form.get('name') ?? '', requestContext(req, 'login_form'));
    const page = this.deps.page(req);
    if (!confirmed) {
      const enrolment = await this.deps.mfa.enrolmentFor(secret, account);
      const notice = { kind: 'error' as const, text: page.tr.t('mfa.enrolMismatch') };
      const token = form.get('token') as string;
      res.status(400).type('html').send(enrolTotpPage(page, { token, username: account.username, secret, qrSvg: enrolment.qrSvg, notice, keys: addKeySection(page.tr, token) }));
      return;
    }
    await this.completeEnrolment(req, res, pending, account, 'totp', confirmed.recoveryCodes, finish);
  }

  /** A first factor enrolled: the session, then its recovery codes (shown once) before going on. */
  async completeEnrolment(req: Request, res: Response, pending: Pending, account: Account, factor: string, recoveryCodes: string[], finish: Finishers): Promise<void> {
    const session = pending.session === null ? await finish.establish(res, successOf(pending, account), [...pending.methods, factor]) : await this.stepUp(pending.session, factor);
    if (!session) return this.expired(req, res);
    // The codes are shown once, before going on; Continue resumes the login through single sign-on.
    const query = new URLSearchParams();
    if (pending.service !== null) query.set('service', pending.service);
    if (pending.method === 'POST') query.set('method', 'POST');
    const continueUrl = `/cas/login${query.size > 0 ? `?${query.toString()}` : ''}`;
    res.status(200).type('html').send(recoveryCodesPage(this.deps.page(req), { codes: recoveryCodes, continueUrl }));
  }

  expired(req: Request, res: Response): void {
    const page = this.deps.page(req);
    res.status(403).type('html').send(errorPage(page, page.tr.t('mfa.expiredTitle'), page.tr.t('mfa.expired')));
  }
}

function successOf(pending: Pending, account: Account): Success {
  return {
    status: 'success',
    account,
    principal: { username: account.username, source: account.source, attributes: pending.attributes },
    backend: pending.backend,
    authenticatedAt: pending.authenticatedAt,
    factors: ['totp'],
  };
}

