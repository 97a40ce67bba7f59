import type { LivePolicySource } from '../config/live-policy';
import type { AccountService } from '../accounts/account-service';
import type { Account, AccountRepository } from '../storage/accounts-repo';
import type { AuditLog } from '../storage/audit-log';
import type { LockoutStore } from '../storage/lockout-store';
import type { Clock } from '../shared/clock';
import { InputError } from '../shared/errors';
import { asUnavailable } from '../storage/storage-faults';
import { MAX_USERNAME_LENGTH, usernameKey, validateUsername } from '../shared/username';
import type { Logger } from '../shared/logger';
import type { BackendChain } from './chain';
import type { BackendOutcome, FailureReason, PasswordCredential, Principal } from './backend';
import { INTERNAL_BACKEND } from './internal-backend';
import type { PasswordHasher } from './password-hasher';
import type { LoginThrottle } from '../ops/client-throttle';

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

/**
 * The one login path for every front door (form, REST tickets, API tokens):
 * lockout check → backend chain → count failure or reset → local account
 * checks → audit. Failures are counted before a directory is asked again, so
 * a locked name never reaches the directory.
 */
export class LoginService {
  constructor(
    private readonly chain: BackendChain,
    private readonly accounts: AccountRepository,
    private readonly accountService: AccountService,
    private readonly lockouts: LockoutStore,
    private readonly hasher: PasswordHasher,
    private readonly policy: LivePolicySource,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Per-client-address throttling of failures (src/ops/client-throttle.ts). */
    private readonly clientThrottle?: LoginThrottle,
  ) {}

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
      const auditBase = { username, clientIp: context.clientIp, userAgent: context.userAgent };
      const lockoutPolicy = this.policy.get().lockout;
      const lockoutApplies = lockoutPolicy.maxAllowedLoginFailureCount > 0;
      let hasCounter = false;
      if (lockoutApplies) {
        // Locked means locked, whichever way the user proves who they are.
        const state = await this.lockouts.get(key);
        if (state.lockedUntil !== null && state.lockedUntil > this.clock.now()) {
          await this.audit.append({ ...auditBase, event: 'login', outcome: 'failure', backend, details: { reason: 'locked', channel: context.channel } }, this.clock.now());
          return { status: 'locked', lockedUntil: state.lockedUntil };
        }
        hasCounter = hasFailures(state);
      }
      const principal = await identity.resolve();
      if (usernameKey(principal.username) !== key) throw new Error(`backend ${backend} resolved ${username} to another name (${principal.username})`);
      return this.complete({ ok: true, principal }, key, auditBase, backend, hasCounter, context);
    });
  }

  /** Audits refused input and turns an unreachable dependency into an "unavailable" result (fail closed). */
  private async guarded(username: string, context: RequestContext, work: () => Promise<LoginResult>): Promise<LoginResult> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof InputError) {
        await this.audit
          .append({ event: 'login', outcome: 'failure', username: auditableName(username), clientIp: context.clientIp, userAgent: context.userAgent, details: { reason: 'invalid_input', message: error.message, channel: context.channel } }, this.clock.now())
          .catch(() => undefined);
        throw error;
      }
      const unavailable = asUnavailable(error);
      if (!unavailable) throw error;
      const { dependency, message, reason } = unavailable;
      this.logger.error({ event: 'login_unavailable', dependency, err: message }, 'login refused: dependency unavailable');
      await this.audit
        .append({ event: 'login', outcome: 'failure', username: auditableName(username), clientIp: context.clientIp, userAgent: context.userAgent, details: { reason: 'unavailable', dependency, channel: context.channel } }, this.clock.now())
        .catch(() => undefined);
      return { status: 'unavailable', dependency, message, reason };
    }
  }

  private async attempt(credential: PasswordCredential, context: RequestContext): Promise<LoginResult> {
    // Refused (and audited by guarded()) before any backend or directory sees it.
    validateUsername(credential.username);
    const lockoutPolicy = this.policy.get().lockout;
    const route = await this.chain.route(credential.username);
    const key = usernameKey(route.canonicalUsername);
    const auditBase = { username: route.canonicalUsername, clientIp: context.clientIp, userAgent: context.userAgent };
    const lockoutApplies = route.lockout && lockoutPolicy.maxAllowedLoginFailureCount > 0;

    const throttledUntil = await this.clientThrottle?.blockedUntil(context.clientIp, this.clock.now());
    if (throttledUntil) {
      await this.audit.append({ ...auditBase, event: 'login', outcome: 'failure', details: { reason: 'client_throttled', channel: context.channel } }, this.clock.now());
      return { status: 'locked', lockedUntil: throttledUntil };
    }

    let hasCounter = false;
    if (lockoutApplies) {
      const state = await this.lockouts.get(key);
      if (state.lockedUntil !== null && state.lockedUntil > this.clock.now()) {
        await this.audit.append({ ...auditBase, event: 'login', outcome: 'failure', details: { reason: 'locked', channel: context.channel } }, this.clock.now());
        return { status: 'locked', lockedUntil: state.lockedUntil };
      }
      hasCounter = hasFailures(state);
    }

    if (route.backends.length === 0) await this.hasher.burn(credential.password);
    const { outcome, backend } = route.backends.length === 0
      ? { outcome: { ok: false as const, reason: 'unknown_user' as const }, backend: null }
      : await this.chain.authenticate(route, credential);
    const backendName = backend?.name ?? null;

    if (!outcome.ok) {
      if (outcome.reason === 'bad_credentials' || outcome.reason === 'unknown_user') {
        const now = this.clock.now();
        await this.clientThrottle?.recordFailure(context.clientIp, now);
        let lockedNow = false;
        if (lockoutApplies) {
          const state = await this.lockouts.recordFailure(key, now, lockoutPolicy.maxAllowedLoginFailureCount, lockoutPolicy.userLockoutTimeout * 1000);
          lockedNow = state.lockedUntil !== null && state.lockedUntil > now;
          if (lockedNow && state.failureCount === lockoutPolicy.maxAllowedLoginFailureCount) {
            await this.audit.append({ ...auditBase, event: 'account_locked', outcome: 'info', backend: backendName, details: { failures: state.failureCount, lockedUntil: state.lockedUntil } }, now);
          }
        }
        await this.audit.append({ ...auditBase, event: 'login', outcome: 'failure', backend: backendName, details: { reason: outcome.reason, channel: context.channel } }, now);
        return { status: 'invalid' };
      }
      await this.audit.append({ ...auditBase, event: 'login', outcome: 'failure', backend: backendName, details: { reason: outcome.reason, channel: context.channel } }, this.clock.now());
      return { status: 'account_state', reason: outcome.reason };
    }

    return this.complete(outcome, key, auditBase, backendName, hasCounter, context);
  }

  /** After a backend said yes: local account (provisioned for directory users), enabled check, login record, audit. */
  private async complete(
    outcome: Extract<BackendOutcome, { ok: true }>,
    key: string,
    auditBase: { username: string; clientIp: string | null; userAgent: string | null },
    backendName: string | null,
    /** A failure counter existed before this login (a successful login clears it). */
    hasCounter: boolean,
    context: RequestContext,
  ): Promise<LoginResult> {
    const principal = outcome.principal;
    const account = principal.source === INTERNAL_BACKEND
      ? await this.accounts.findByKey(key)
      : await this.accountService.provisionDirectoryAccount(principal);
    const now = this.clock.now();
    if (!account) return { status: 'invalid' };
    if (!account.enabled) {
      await this.audit.append({ ...auditBase, event: 'login', outcome: 'failure', backend: backendName, details: { reason: 'account_disabled', channel: context.channel } }, now);
      return { status: 'disabled' };
    }
    const upgrade = outcome.upgradeHash;
    if (upgrade) {
      // A legacy or weaker hash is replaced in the same transaction that records the login.
      await this.accounts.transaction(async (tx) => {
        await tx.replaceHash(account.id, upgrade.from, upgrade.to);
        await tx.recordLogin(account.id, now);
      });
    } else await this.accounts.recordLogin(account.id, now);
    if (hasCounter) await this.lockouts.reset(key);
    const passwordChange = this.passwordChangeNeeded(account, now);
    await this.audit.append(
      { ...auditBase, username: account.username, event: 'login', outcome: 'success', backend: backendName, details: { channel: context.channel, ...(outcome.upgradeHash ? { hashUpgraded: true } : {}), ...(passwordChange ? { passwordChange } : {}) } },
      now,
    );
    return { status: 'success', account, principal, backend: backendName ?? INTERNAL_BACKEND, authenticatedAt: now, ...(passwordChange ? { passwordChange } : {}) };
  }

  private passwordChangeNeeded(account: Account, now: number): PasswordChangeReason | undefined {
    if (account.source !== INTERNAL_BACKEND) return undefined;
    if (account.mustChangePassword) return 'initial';
    const maxAgeDays = this.policy.get().password.maxAgeDays;
    if (maxAgeDays > 0 && account.passwordChangedAt !== null && account.passwordChangedAt + maxAgeDays * 86_400_000 <= now) return 'expired';
    return undefined;
  }
}

/** A refused name as it may be stored in the audit log: control characters replaced, length bounded. */
function auditableName(username: string): string {
  // eslint-disable-next-line no-control-regex -- NUL and friends cannot be stored (PostgreSQL text) or shown safely
  return username.replace(/[\u0000-\u001f\u007f]/g, '\ufffd').slice(0, MAX_USERNAME_LENGTH);
}

/** Whether a name has a failure counter worth clearing. */
function hasFailures(state: { failureCount: number; lockedUntil: number | null }): boolean {
  return state.failureCount > 0 || state.lockedUntil !== null;
}
