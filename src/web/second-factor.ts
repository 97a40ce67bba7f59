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
import type { Account } from '../storage/accounts-repo';
import type { FactorKind } from '../storage/mfa-store';
import type { Clock } from '../shared/clock';
import type { SsoSession } from '../tickets/sessions';
import { hasSecondFactor } from '../tickets/sessions';
import { enrolTotpPage, recoveryCodesPage, secondFactorPage } from './mfa-views';
import type { TokenSigner } from './signed-token';
import { errorPage } from './views';

const CODE_PURPOSE = 'second-factor';
const ENROL_PURPOSE = 'second-factor-enrol';
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
}

/** What the login pages do once every factor is in. */
export interface Finishers {
  /** Creates the single sign-on session and sets its cookie. */
  establish(res: Response, result: Success, methods: string[]): Promise<SsoSession>;
  /** Goes on to the service with a ticket from the session (or shows the signed-in page). */
  proceed(res: Response, session: SsoSession, request: ResumableRequest): Promise<void>;
}

export class SecondFactorStep {
  constructor(private readonly deps: SecondFactorDeps) {}

  async enrolledKinds(accountId: number): Promise<FactorKind[]> {
    return this.deps.mfa.enrolledKinds(accountId);
  }

  /** Whether this login needs a second factor before it completes. */
  needed(result: Success, request: ResumableRequest): boolean {
    return result.factors.length > 0 || request.mfa || this.deps.mfa.requiredFor(result.account);
  }

  /**
   * Whether an existing session must step up for this request. Decided from
   * the session alone (no I/O on the single sign-on path): a session is
   * created with a second factor whenever its account needed one at the time.
   */
  stepUpNeeded(session: SsoSession, request: ResumableRequest): boolean {
    return request.mfa && !hasSecondFactor(session.authentication);
  }

  /** Shows the code form, or the enrolment form for an account with no factor yet. */
  async begin(res: Response, result: Success, request: ResumableRequest, firstFactor: string): Promise<void> {
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
    await this.show(res, result.account, pending, 200);
  }

  /** Step-up of a live session: only the second factor, never the password again. */
  async beginStepUp(res: Response, session: SsoSession, request: ResumableRequest): Promise<void> {
    const account = session.ticket.accountId === null ? null : await this.deps.accountService.get(session.ticket.accountId).catch(() => null);
    if (!account) {
      res.status(403).type('html').send(errorPage('Second factor unavailable', 'This session has no local account to hold a second factor. Sign in again.'));
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
    await this.show(res, account, pending, 200);
  }

  routes(formBody: RequestHandler, finish: Finishers): Router {
    const router = Router();
    router.post('/cas/mfa', formBody, (req, res) => this.verifyCode(req, res, finish));
    router.post('/cas/mfa/enrol', formBody, (req, res) => this.confirmEnrolment(req, res, finish));
    return router;
  }

  private async show(res: Response, account: Account, pending: Pending, status: number, error?: string): Promise<void> {
    const notice = error ? { kind: 'error' as const, text: error } : undefined;
    if ((await this.deps.mfa.enrolledKinds(account.id)).length > 0) {
      const token = this.deps.signer.sign(CODE_PURPOSE, { ...pending }, this.deps.clock.now() + PENDING_TTL_MS);
      res.status(status).type('html').send(secondFactorPage({ token, username: account.username, notice }));
      return;
    }
    const enrolment = await this.deps.mfa.beginTotp(account);
    const token = this.deps.signer.sign(ENROL_PURPOSE, { ...pending, secret: enrolment.secret }, this.deps.clock.now() + PENDING_TTL_MS);
    res.status(status).type('html').send(enrolTotpPage({ token, username: account.username, secret: enrolment.secret, qrSvg: enrolment.qrSvg, notice }));
  }

  /** The pending login a form token carries, if it is genuine, fresh, and its account unchanged and enabled. */
  private async resume(purpose: string, token: string | undefined): Promise<{ pending: Pending & { secret?: string }; account: Account } | null> {
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
    if (!resumed) return expired(res);
    const { pending, account } = resumed;
    const code = form.get('code')?.trim() ?? '';
    if (code === '') return this.show(res, account, pending, 400, 'Enter the code from your authenticator app, or a recovery code.');
    const verdict = await this.deps.mfa.verify(account, code, requestContext(req, 'login_form'));
    if (verdict.status === 'locked') return this.show(res, account, pending, 423, refusalOf(verdict).message);
    if (verdict.status === 'invalid') return this.show(res, account, pending, 401, 'That code is not correct. Codes change every 30 seconds; each works once.');
    const request: ResumableRequest = { service: pending.service ?? undefined, method: pending.method, mfa: true };
    const session = pending.session === null ? await finish.establish(res, successOf(pending, account), [...pending.methods, verdict.factor]) : await this.stepUp(pending.session, verdict.factor);
    if (!session) return expired(res);
    await finish.proceed(res, session, request);
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
    if (!resumed || typeof secret !== 'string') return expired(res);
    const { pending, account } = resumed;
    const confirmed = await this.deps.mfa.confirmTotp(account, secret, form.get('code') ?? '', form.get('name') ?? '', requestContext(req, 'login_form'));
    if (!confirmed) {
      const enrolment = await this.deps.mfa.enrolmentFor(secret, account);
      const notice = { kind: 'error' as const, text: 'That code does not match. Check the time on your phone and try the newest code.' };
      res.status(400).type('html').send(enrolTotpPage({ token: form.get('token') as string, username: account.username, secret, qrSvg: enrolment.qrSvg, notice }));
      return;
    }
    const session = pending.session === null ? await finish.establish(res, successOf(pending, account), [...pending.methods, 'totp']) : await this.stepUp(pending.session, 'totp');
    if (!session) return expired(res);
    // The codes are shown once, before going on; Continue resumes the login through single sign-on.
    const query = new URLSearchParams();
    if (pending.service !== null) query.set('service', pending.service);
    if (pending.method === 'POST') query.set('method', 'POST');
    const continueUrl = `/cas/login${query.size > 0 ? `?${query.toString()}` : ''}`;
    res.status(200).type('html').send(recoveryCodesPage({ codes: confirmed.recoveryCodes, continueUrl }));
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

function expired(res: Response): void {
  res.status(403).type('html').send(errorPage('Sign-in expired', 'This sign-in step has expired or its account changed. Sign in again.'));
}
