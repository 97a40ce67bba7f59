import type { LivePolicySource } from '../config/live-policy';
import type { AccountService } from '../accounts/account-service';
import type { Account } from '../accounts/account';
import type { AuditLog } from '../storage/audit-log';
import type { Clock } from '../shared/clock';
import { InputError } from '../shared/errors';
import { asUnavailable } from '../storage/storage-faults';
import { MAX_USERNAME_LENGTH, usernameKey, validateUsername } from '../shared/username';
import type { Logger } from '../shared/logger';
import type { BackendChain } from './chain';
import type { BackendOutcome, FailureReason, PasswordCredential, Principal } from './backend';
import { INTERNAL_BACKEND } from './internal-backend';
import type { PasswordHasher } from './password-hasher';
import type { Admission, Attempt, LoginRegulator } from '../policy/regulator';
import type { FactorKind } from '../storage/mfa-store';
import type { ChainOutcome, Route } from './chain';

export interface RequestContext {
  clientIp: string | null;
  userAgent: string | null;
  /** Which front door was used, for the audit trail ("login_form", "rest", "api_token"). */
  channel: string;
}

export type PasswordChangeReason = 'initial' | 'expired';

export type LoginResult =
  | {
      status: 'success';
      account: Account;
      principal: Principal;
      backend: string;
      authenticatedAt: number;
      /** Set when the user must choose a new password before the login completes. */
      passwordChange?: PasswordChangeReason;
      /** Second factors the account has enrolled: when any, the login is complete only after one of them. */
      factors: FactorKind[];
    }
  /** Wrong password or unknown user: deliberately indistinguishable. */
  | { status: 'invalid' }
  /** Locked by NEC lockout policy; said for any locked name, existing or not, whatever the password. */
  | { status: 'locked'; lockedUntil: number }
  | { status: 'disabled' }
  /** Directory account states (reported only after the directory accepted the password). */
  | { status: 'account_state'; reason: Exclude<FailureReason, 'bad_credentials' | 'unknown_user'> }
  /** `message` is for the log; `reason` is safe to show ("the database cannot be written: disk full"). */
  | { status: 'unavailable'; dependency: string; message: string; reason: string };

/** What a sign-in writes to its account: the login time, and a legacy or weaker hash upgraded. */
export interface SignInRecorder {
  recordLogin(id: number, now: number): Promise<void>;
  replaceHash(id: number, oldHash: string, newHash: string): Promise<void>;
}

/** The accounts as the login service uses them: one read per sign-in, and its writes (in one transaction when a hash is upgraded). */
export interface SignInAccounts extends SignInRecorder {
  findByKeyWithFactors(usernameKey: string): Promise<{ account: Account; factors: FactorKind[] } | null>;
  transaction<T>(work: (tx: SignInRecorder) => Promise<T>): Promise<T>;
}

export interface LoginServiceDeps {
  chain: BackendChain;
  accounts: SignInAccounts;
  accountService: AccountService;
  /** The lockout and client-address throttle (src/policy/regulator.ts). */
  regulator: LoginRegulator;
  hasher: PasswordHasher;
  policy: LivePolicySource;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  /** Which second factors a directory account has (an internal account's come with its read: findByKeyWithFactors). */
  factors: { enrolledKinds(accountId: number): Promise<FactorKind[]> };
}

type AuditBase = { username: string; clientIp: string | null; userAgent: string | null };

/**
 * The one login path for every front door (form, REST tickets, API tokens,
 * SPNEGO, /me/password), as named steps:
 *   validate name → route to a backend → regulator admits (claims a place in
 *   the failure count before any secret is checked) → check the secret →
 *   settle the claim (fail / succeed / abandon) → local account checks → audit.
 * A locked name never reaches the directory, and an attempt that throws gives
 * its place back.
 */
export class LoginService {
  constructor(private readonly deps: LoginServiceDeps) {}

  async login(credential: PasswordCredential, context: RequestContext): Promise<LoginResult> {
    return this.guarded(credential.username, context, () => this.attempt(credential, context));
  }

  /**
   * Login of a user a backend has already authenticated without a password
   * (SPNEGO / integrated Windows sign-in): the same lockout state, account
   * provisioning, enabled check and audit as a password login. `resolve`
   * (e.g. the directory lookup for attributes) runs only after the lockout
   * check, and a directory outage there fails closed like a password login.
   */
  async loginWithPrincipal(identity: { username: string; backend: string; resolve: () => Promise<Principal> }, context: RequestContext): Promise<LoginResult> {
    const { username, backend } = identity;
    return this.guarded(username, context, async () => {
      validateUsername(username);
      const key = usernameKey(username);
      const auditBase = auditBaseOf(username, context);
      // Locked means locked, whichever way the user proves who they are; no secret is checked here, so nothing is claimed.
      const admission = await this.deps.regulator.observe(key, context.clientIp, { lockout: true });
      if (!admission.admitted) return this.refused(admission, auditBase, context, backend);
      const principal = await identity.resolve();
      if (usernameKey(principal.username) !== key) throw new Error(`backend ${backend} resolved ${username} to another name (${principal.username})`);
      return this.complete({ ok: true, principal }, key, auditBase, backend, admission.attempt, context);
    });
  }

  /**
   * Checks the current password of a signed-in internal account (`/me/password`):
   * the same regulator as a sign-in, so a stolen token is no password-guessing oracle.
   */
  async confirmPassword(account: Account, password: string, context: RequestContext): Promise<'confirmed' | Extract<LoginResult, { status: 'invalid' | 'locked' }>> {
    const auditBase = auditBaseOf(account.username, context);
    const admission = await this.deps.regulator.admit(account.usernameKey, context.clientIp, { lockout: true });
    if (!admission.admitted) return { status: 'locked', lockedUntil: admission.lockedUntil };
    const attempt = admission.attempt;
    const right = await this.settling(attempt, async () => account.passwordHash !== null && (await this.deps.hasher.verify(account.passwordHash, password)));
    if (right) {
      await this.deps.regulator.succeed(attempt);
      return 'confirmed';
    }
    await this.recordFailure(attempt, auditBase, null);
    return { status: 'invalid' };
  }

  /** Audits refused input and turns an unreachable dependency into an "unavailable" result (fail closed). */
  private async guarded(username: string, context: RequestContext, work: () => Promise<LoginResult>): Promise<LoginResult> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof InputError) {
        await this.deps.audit
          .append({ event: 'login', outcome: 'failure', username: auditableName(username), clientIp: context.clientIp, userAgent: context.userAgent, details: { reason: 'invalid_input', message: error.message, channel: context.channel } }, this.deps.clock.now())
          .catch(() => undefined);
        throw error;
      }
      const unavailable = asUnavailable(error);
      if (!unavailable) throw error;
      const { dependency, message, reason } = unavailable;
      this.deps.logger.error({ event: 'login_unavailable', dependency, err: message }, 'login refused: dependency unavailable');
      await this.deps.audit
        .append({ event: 'login', outcome: 'failure', username: auditableName(username), clientIp: context.clientIp, userAgent: context.userAgent, details: { reason: 'unavailable', dependency, channel: context.channel } }, this.deps.clock.now())
        .catch(() => undefined);
      return { status: 'unavailable', dependency, message, reason };
    }
  }

  private async attempt(credential: PasswordCredential, context: RequestContext): Promise<LoginResult> {
    // Refused (and audited by guarded()) before any backend or directory sees it.
    validateUsername(credential.username);
    const route = await this.deps.chain.route(credential.username);
    const key = usernameKey(route.canonicalUsername);
    const auditBase = auditBaseOf(route.canonicalUsername, context);
    const admission = await this.deps.regulator.admit(key, context.clientIp, { lockout: route.lockout });
    if (!admission.admitted) return this.refused(admission, auditBase, context, null);
    const attempt = admission.attempt;
    const { outcome, backend } = await this.settling(attempt, () => this.checkSecret(route, credential));
    const backendName = backend?.name ?? null;
    if (outcome.ok) return this.complete(outcome, key, auditBase, backendName, attempt, context, credential.password);
    if (outcome.reason === 'bad_credentials' || outcome.reason === 'unknown_user') {
      await this.recordFailure(attempt, auditBase, backendName);
      await this.deps.audit.append({ ...auditBase, event: 'login', outcome: 'failure', backend: backendName, details: failureDetails(outcome, context.channel) }, this.deps.clock.now());
      return { status: 'invalid' };
    }
    // The directory accepted the password but refuses the account's state: no verdict on a guess.
    await this.deps.regulator.abandon(attempt);
    await this.deps.audit.append({ ...auditBase, event: 'login', outcome: 'failure', backend: backendName, details: failureDetails(outcome, context.channel) }, this.deps.clock.now());
    return { status: 'account_state', reason: outcome.reason };
  }

  /** The backend chain's verdict on the password; a name no backend serves costs one Argon2 verification like any other. */
  private async checkSecret(route: Route, credential: PasswordCredential): Promise<ChainOutcome> {
    if (route.backends.length > 0) return this.deps.chain.authenticate(route, credential);
    await this.deps.hasher.burn(credential.password);
    return { outcome: { ok: false, reason: 'unknown_user' }, backend: null };
  }

  /** Runs a step of an admitted attempt; if it throws, the attempt's place is given back. */
  private async settling<T>(attempt: Attempt, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      await this.deps.regulator.abandon(attempt).catch(() => undefined);
      throw error;
    }
  }

  /** A wrong secret: the regulator keeps the failure; the one failure that locked the name is audited as such. */
  private async recordFailure(attempt: Attempt, auditBase: AuditBase, backendName: string | null): Promise<void> {
    const verdict = await this.deps.regulator.fail(attempt);
    if (verdict.lockedNow) {
      await this.deps.audit.append(
        { ...auditBase, event: 'account_locked', outcome: 'info', backend: backendName, details: { failures: verdict.failureCount, lockedUntil: verdict.lockedUntil } },
        this.deps.clock.now(),
      );
    }
  }

  private async refused(admission: Extract<Admission, { admitted: false }>, auditBase: AuditBase, context: RequestContext, backend: string | null): Promise<LoginResult> {
    await this.deps.audit.append(
      { ...auditBase, event: 'login', outcome: 'failure', ...(backend ? { backend } : {}), details: { reason: admission.reason, channel: context.channel } },
      this.deps.clock.now(),
    );
    return { status: 'locked', lockedUntil: admission.lockedUntil };
  }

  /** After a backend said yes: local account (provisioned for directory users), enabled check, login record, audit. */
  private async complete(
    outcome: Extract<BackendOutcome, { ok: true }>,
    key: string,
    auditBase: AuditBase,
    backendName: string | null,
    attempt: Attempt,
    context: RequestContext,
    /** The clear password, when the sign-in had one (not SPNEGO). */
    password?: string,
  ): Promise<LoginResult> {
    const principal = outcome.principal;
    const found = await this.settling(attempt, () => this.localAccount(principal, key));
    const now = this.deps.clock.now();
    if (!found || !found.account.enabled) {
      await this.deps.regulator.abandon(attempt);
      if (!found) return { status: 'invalid' };
      await this.deps.audit.append({ ...auditBase, event: 'login', outcome: 'failure', backend: backendName, details: { reason: 'account_disabled', channel: context.channel } }, now);
      return { status: 'disabled' };
    }
    const { account, factors } = found;
    await this.settling(attempt, () => this.recordLogin(account, outcome, now));
    // With a second factor to come, the first one alone does not clear earlier failures: codes count toward the same lock.
    if (factors.length > 0) await this.deps.regulator.abandon(attempt);
    else await this.deps.regulator.succeed(attempt);
    // Step: a password breached or breaking today's policy must be changed before any ticket (src/policy/stale-password.ts).
    const current = password === undefined ? account : await this.deps.accountService.flagStalePassword(account, password, { name: account.username, ...auditBase, channel: context.channel });
    const passwordChange = this.passwordChangeNeeded(current, now);
    await this.deps.audit.append(
      { ...auditBase, username: account.username, event: 'login', outcome: 'success', backend: backendName, details: { channel: context.channel, ...(outcome.upgradeHash ? { hashUpgraded: true } : {}), ...(passwordChange ? { passwordChange } : {}) } },
      now,
    );
    return { status: 'success', account: current, principal, backend: backendName ?? INTERNAL_BACKEND, authenticatedAt: now, factors, ...(passwordChange ? { passwordChange } : {}) };
  }

  /** The local account and its enrolled second factors: an internal account's in one read, a directory account's after provisioning. */
  private async localAccount(principal: Principal, key: string): Promise<{ account: Account; factors: FactorKind[] } | null> {
    if (principal.source === INTERNAL_BACKEND) return this.deps.accounts.findByKeyWithFactors(key);
    const account = await this.deps.accountService.provisionDirectoryAccount(principal);
    return { account, factors: await this.deps.factors.enrolledKinds(account.id) };
  }

  /** The login time, and a legacy or weaker hash replaced in the same transaction. */
  private async recordLogin(account: Account, outcome: Extract<BackendOutcome, { ok: true }>, now: number): Promise<void> {
    const upgrade = outcome.upgradeHash;
    if (!upgrade) return this.deps.accounts.recordLogin(account.id, now);
    await this.deps.accounts.transaction(async (tx) => {
      await tx.replaceHash(account.id, upgrade.from, upgrade.to);
      await tx.recordLogin(account.id, now);
    });
  }

  private passwordChangeNeeded(account: Account, now: number): PasswordChangeReason | undefined {
    if (account.source !== INTERNAL_BACKEND) return undefined;
    if (account.mustChangePassword) return 'initial';
    const maxAgeDays = this.deps.policy.get().password.maxAgeDays;
    if (maxAgeDays > 0 && account.passwordChangedAt !== null && account.passwordChangedAt + maxAgeDays * 86_400_000 <= now) return 'expired';
    return undefined;
  }
}

function auditBaseOf(username: string, context: RequestContext): AuditBase {
  return { username, clientIp: context.clientIp, userAgent: context.userAgent };
}

/** A refused name as it may be stored in the audit log: control characters replaced, length bounded. */
function auditableName(username: string): string {
  // eslint-disable-next-line no-control-regex -- NUL and friends cannot be stored (PostgreSQL text) or shown safely
  return username.replace(/[\u0000-\u001f\u007f]/g, '\ufffd').slice(0, MAX_USERNAME_LENGTH);
}

/** Audit details of a backend's refusal; a directory's LDAP result is kept (e.g. 34 invalidDNSyntax). */
function failureDetails(outcome: Extract<BackendOutcome, { ok: false }>, channel: string): Record<string, unknown> {
  return { reason: outcome.reason, channel, ...(outcome.directoryResult ? { ldapResult: outcome.directoryResult } : {}) };
}
