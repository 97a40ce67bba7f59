/**
 * Security keys and passkeys on the login pages: the options endpoint the
 * browser script asks before a ceremony, a key as the second factor, a key
 * as the first factor enrolled, and passwordless passkey sign-in. Pending
 * logins travel in the second-factor step's signed tokens and challenges in
 * the database, so any instance finishes what another began.
 */
import path from 'node:path';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import type { LoginResult } from '../authn/login-service';
import { refusalOf } from '../authn/refusals';
import { formParams, parseCookies } from '../http/params';
import { requestContext } from '../http/request-context';
import type { FactorInfo } from '../mfa/mfa-service';
import type { WebAuthnService } from '../mfa/webauthn-service';
import type { Clock } from '../shared/clock';
import type { Account } from '../accounts/account';
import { PASSKEY_METHOD, type SsoSession, hasSecondFactor } from '../tickets/sessions';
import { TGC_COOKIE } from './login-routes';
import { CODE_PURPOSE, ENROL_PURPOSE, type Finishers, type ResumableRequest, type SecondFactorStep } from './second-factor';
import type { TokenSigner } from './signed-token';
import { type Page, errorPage } from './views';
import type { MessageKey } from './i18n';
import { KEY_MESSAGES, keysPage } from './webauthn-views';

/** What the login page lends the passkey form: its CSRF and service checks, and its error rendering. */
export interface PasskeyLogin<R extends ResumableRequest> {
  /** The form's service request after the password form's checks; null when refused (a page was sent). */
  request(req: Request, res: Response): Promise<R | null>;
  refuse(req: Request, res: Response, status: number, message: MessageKey, request: R): void;
}

export interface WebAuthnStepDeps {
  webauthn: WebAuthnService;
  secondFactor: SecondFactorStep;
  clock: Clock;
  signer: TokenSigner;
  findSession(tgtId: string | undefined): Promise<SsoSession | null>;
  findAccount(accountId: number): Promise<Account | null>;
  listFactors(accountId: number): Promise<FactorInfo[]>;
  /** Language and branding of the page being answered (src/web/ui.ts). */
  page(req: Request): Page;
}

const PASSKEY_OBSTACLES = { password_change: KEY_MESSAGES.passkeyPasswordChange, directory_account: KEY_MESSAGES.passkeyDirectory } as const;
const CEREMONY_PURPOSES = { authenticate: CODE_PURPOSE, register: ENROL_PURPOSE } as const;
/** The "add a key" form of a signed-in user, bound to their session. */
const KEYS_PURPOSE = 'security-keys';
const KEYS_TTL_MS = 10 * 60 * 1000;

/** SimpleWebAuthn's browser bundle (it defines window.SimpleWebAuthnBrowser), served from the installed package under /cas/static. */
export function browserLibraryRoute(): Router {
  // The package exports only its entry (script/index.js); the bundle sits beside it.
  const bundle = path.join(path.dirname(require.resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle', 'index.umd.min.js');
  return Router().get('/cas/static/simplewebauthn-browser.js', (_req, res) => {
    res.sendFile(bundle, { maxAge: '1h', headers: { 'Content-Type': 'text/javascript; charset=utf-8' } });
  });
}

function jsonError(res: Response, status: number, error: string): void {
  res.status(status).type('application/json').send(JSON.stringify({ error }));
}

export class WebAuthnStep {
  constructor(private readonly deps: WebAuthnStepDeps) {}

  routes<R extends ResumableRequest>(formBody: RequestHandler, finish: Finishers, passkey: PasskeyLogin<R>): Router {
    const router = Router();
    router.post('/cas/webauthn/options', formBody, (req, res) => this.options(req, res));
    router.post('/cas/mfa/webauthn', formBody, (req, res) => this.verifyKey(req, res, finish));
    router.post('/cas/mfa/webauthn/enrol', formBody, (req, res) => this.enrolKey(req, res, finish));
    router.post('/cas/login/passkey', formBody, (req, res) => this.passkeyLogin(req, res, finish, passkey));
    router.get('/cas/mfa/keys', (req, res) => this.showKeys(req, res));
    router.post('/cas/mfa/keys', formBody, (req, res) => this.addKey(req, res));
    return router;
  }

  /** Ceremony options as JSON, for the browser script; a key ceremony needs the pending login's token. */
  private async options(req: Request, res: Response): Promise<void> {
    const form = formParams(req);
    const ceremony = form.get('ceremony');
    if (ceremony === 'passkey') {
      res.status(200).type('application/json').send(JSON.stringify(await this.deps.webauthn.passkeyOptions()));
      return;
    }
    if (ceremony === 'add') {
      const owner = await this.keysOwner(req, form.get('token') ?? '');
      if (!owner) return jsonError(res, 403, this.deps.page(req).tr.t(KEY_MESSAGES.keysNeedSecondFactor));
      res.status(200).type('application/json').send(JSON.stringify(await this.deps.webauthn.registrationOptions(owner.account)));
      return;
    }
    if (ceremony !== 'authenticate' && ceremony !== 'register') return jsonError(res, 400, 'ceremony must be authenticate, register, add or passkey.');
    const resumed = await this.deps.secondFactor.resume(CEREMONY_PURPOSES[ceremony], form.get('token'));
    if (!resumed) return jsonError(res, 403, this.deps.page(req).tr.t('mfa.expired'));
    const options = ceremony === 'register' ? await this.deps.webauthn.registrationOptions(resumed.account) : await this.deps.webauthn.authenticationOptions(resumed.account);
    res.status(200).type('application/json').send(JSON.stringify(options));
  }

  /** A security key as the second factor: refused keys count toward the lockout like wrong codes. */
  private async verifyKey(req: Request, res: Response, finish: Finishers): Promise<void> {
    const form = formParams(req);
    const resumed = await this.deps.secondFactor.resume(CODE_PURPOSE, form.get('token'));
    if (!resumed) return this.deps.secondFactor.expired(req, res);
    const { pending, account } = resumed;
    const credential = form.get('credential') ?? '';
    if (credential === '') return this.deps.secondFactor.show(req, res, account, pending, 400, KEY_MESSAGES.noCredential);
    const verdict = await this.deps.webauthn.verify(account, credential, requestContext(req, 'login_form'));
    if (verdict.status === 'locked') return this.deps.secondFactor.show(req, res, account, pending, refusalOf(verdict).status, 'login.locked');
    if (verdict.status === 'invalid') return this.deps.secondFactor.show(req, res, account, pending, 401, KEY_MESSAGES.keyRefused);
    await this.deps.secondFactor.complete(req, res, pending, account, 'webauthn', finish);
  }

  /** A key (or passkey) as the account's first factor, instead of an authenticator app. */
  private async enrolKey(req: Request, res: Response, finish: Finishers): Promise<void> {
    const form = formParams(req);
    const resumed = await this.deps.secondFactor.resume(ENROL_PURPOSE, form.get('token'));
    if (!resumed) return this.deps.secondFactor.expired(req, res);
    const { pending, account } = resumed;
    const registered = await this.deps.webauthn.register(account, form.get('credential') ?? '', form.get('name') ?? '', requestContext(req, 'login_form'));
    if (!registered) return this.deps.secondFactor.show(req, res, account, pending, 400, KEY_MESSAGES.enrolRefused);
    await this.deps.secondFactor.completeEnrolment(req, res, pending, account, 'webauthn', registered.recoveryCodes, finish);
  }

  /** Passwordless: a discoverable credential with user verification is both factors. */
  private async passkeyLogin<R extends ResumableRequest>(req: Request, res: Response, finish: Finishers, passkey: PasskeyLogin<R>): Promise<void> {
    const request = await passkey.request(req, res);
    if (!request) return;
    const verdict = await this.deps.webauthn.verifyPasskey(formParams(req).get('credential') ?? '', requestContext(req, 'passkey'));
    if (verdict.status === 'locked') return passkey.refuse(req, res, refusalOf(verdict).status, 'login.locked', request);
    if (verdict.status === 'invalid') return passkey.refuse(req, res, 401, KEY_MESSAGES.passkeyRefused, request);
    // No session before the password form has run (password change, directory checks and attributes).
    if (verdict.status === 'password_required') return passkey.refuse(req, res, 403, PASSKEY_OBSTACLES[verdict.reason], request);
    const { account } = verdict;
    const result: Extract<LoginResult, { status: 'success' }> = {
      status: 'success',
      account,
      principal: { username: account.username, source: account.source, attributes: {} },
      backend: account.source,
      authenticatedAt: this.deps.clock.now(),
      factors: ['webauthn'],
    };
    await finish.complete(req, res, result, request, [PASSKEY_METHOD]);
  }

  /**
   * The account of a signed-in session that used a second factor (a key is
   * added only by someone who passed one), and, for a form, its token bound
   * to that session.
   */
  private async keysOwner(req: Request, token?: string): Promise<{ account: Account; session: SsoSession } | null> {
    const session = await this.deps.findSession(parseCookies(req.get('cookie')).get(TGC_COOKIE));
    if (!session || session.ticket.accountId === null || !hasSecondFactor(session.authentication)) return null;
    const account = await this.deps.findAccount(session.ticket.accountId);
    if (!account || !account.enabled) return null;
    if (token === undefined) return { account, session };
    const data = this.deps.signer.verify(KEYS_PURPOSE, token, this.deps.clock.now());
    return data && data.account === account.id && data.session === session.tgtId ? { account, session } : null;
  }

  private async renderKeys(req: Request, res: Response, owner: { account: Account; session: SsoSession }, status: number, notice?: { kind: 'error' | 'success'; text: string }): Promise<void> {
    const token = this.deps.signer.sign(KEYS_PURPOSE, { account: owner.account.id, session: owner.session.tgtId }, this.deps.clock.now() + KEYS_TTL_MS);
    const keys = (await this.deps.listFactors(owner.account.id)).filter((f) => f.kind === 'webauthn');
    res.status(status).type('html').send(keysPage(this.deps.page(req), { token, username: owner.account.username, keys, notice }));
  }

  private async showKeys(req: Request, res: Response): Promise<void> {
    const owner = await this.keysOwner(req);
    if (!owner) return void res.status(403).type('html').send(errorPage(this.deps.page(req), this.deps.page(req).tr.t('webauthn.keysTitle'), this.deps.page(req).tr.t(KEY_MESSAGES.keysNeedSecondFactor)));
    await this.renderKeys(req, res, owner, 200);
  }

  /** Another key for a signed-in account (several keys, each with its name). */
  private async addKey(req: Request, res: Response): Promise<void> {
    const form = formParams(req);
    const owner = await this.keysOwner(req, form.get('token') ?? '');
    if (!owner) return void res.status(403).type('html').send(errorPage(this.deps.page(req), this.deps.page(req).tr.t('webauthn.keysTitle'), this.deps.page(req).tr.t(KEY_MESSAGES.keysNeedSecondFactor)));
    const added = await this.deps.webauthn.register(owner.account, form.get('credential') ?? '', form.get('name') ?? '', requestContext(req, 'login_form'));
    const { t } = this.deps.page(req).tr;
    await this.renderKeys(req, res, owner, added ? 200 : 400, added ? { kind: 'success', text: t(KEY_MESSAGES.keyAdded) } : { kind: 'error', text: t(KEY_MESSAGES.enrolRefused) });
  }
}
