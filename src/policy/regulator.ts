/**
 * The login regulator: NEC CAS's lockout (MaxAllowedLoginFailureCount,
 * UserLockoutTimeout) and the per-client-address throttle, decided here and
 * nowhere else. Every way in that checks a secret (login form, REST tickets,
 * API tokens, /me/password, and later a second factor) asks `admit` before it
 * checks, then reports `fail`, `succeed` or `abandon`; ways in that check no
 * secret (SPNEGO) ask `observe`; views of lock state use `lockView`.
 *
 * Guarantee: `admit` claims the attempt's place in the failure count atomically
 * in the database *before* the secret is checked (see LockoutStore.claim), so
 * at most MaxAllowedLoginFailureCount secrets are checked per username between
 * two successful sign-ins or lock expiries, however many attempts run in
 * parallel on however many instances. A claim stands as a failure unless the
 * attempt succeeds (the count is cleared) or ends without a verdict (given back).
 *
 * May import: shared/ and the state type of storage/lockout-store; it talks to
 * storage only through the narrow interfaces below.
 */
import type { Clock } from '../shared/clock';
import type { LockoutState } from '../storage/lockout-store';
import { clientKey } from './client-address';

export interface LockoutPolicy {
  /** Failures that lock a name; 0 turns lockout off. */
  maxAllowedLoginFailureCount: number;
  /** Seconds a lock lasts. */
  userLockoutTimeout: number;
}

export interface ClientThrottlePolicy {
  /** Failed logins one client address may cause per window; 0 turns throttling off. */
  maxFailures: number;
  windowSeconds: number;
}

/** What the regulator needs of the per-name counters (src/storage/lockout-store.ts). */
export interface LockoutCounters {
  get(usernameKey: string): Promise<LockoutState>;
  claim(usernameKey: string, now: number, maxFailures: number, lockMs: number): Promise<LockoutState | null>;
  release(usernameKey: string, claimed: LockoutState): Promise<void>;
  reset(usernameKey: string): Promise<void>;
}

/** What the regulator needs of the per-address counters (src/storage/client-throttle-store.ts). */
export interface ClientFailureCounters {
  window(key: string, now: number, windowMs: number): Promise<{ failures: number; endsAt: number } | null>;
  recordFailure(key: string, now: number, windowMs: number): Promise<void>;
}

export interface RegulatorDeps {
  counters: LockoutCounters;
  clients: ClientFailureCounters;
  lockout: () => LockoutPolicy;
  throttle: () => ClientThrottlePolicy;
  clock: Clock;
}

/** An attempt the regulator let through; hand it back with the outcome. */
export interface Attempt {
  readonly usernameKey: string;
  readonly clientIp: string | null;
  /** The place this attempt claimed in the failure count, or null when lockout does not apply to it. */
  readonly claim: LockoutState | null;
  /** Whether a success must clear the name's counter. */
  readonly clearOnSuccess: boolean;
}

export type Admission =
  | { admitted: true; attempt: Attempt }
  | { admitted: false; reason: 'locked' | 'client_throttled'; lockedUntil: number };

export interface FailureVerdict {
  /** This failure locked the name (exactly one failure per lock sees this). */
  lockedNow: boolean;
  failureCount: number;
  lockedUntil: number | null;
}

export interface LockView {
  failureCount: number;
  locked: boolean;
  lockedUntil: number | null;
}

/** NEC's MaxAllowedLoginFailureCount of 0 turns lockout off: no name is locked, whatever counters remain. */
export function lockoutOn(policy: LockoutPolicy): boolean {
  return policy.maxAllowedLoginFailureCount > 0;
}

/** The lock rule: a name is locked while lockout is on and its lock has not run out. */
export function isLocked(state: LockoutState, policy: LockoutPolicy, now: number): boolean {
  return lockoutOn(policy) && state.lockedUntil !== null && state.lockedUntil > now;
}

/** The counter as it stands now: a lock that ran out counts as no failures (the next one starts afresh). */
export function lockView(state: LockoutState, policy: LockoutPolicy, now: number): LockView {
  if (state.lockedUntil !== null && state.lockedUntil <= now) return { failureCount: 0, locked: false, lockedUntil: null };
  const locked = isLocked(state, policy, now);
  return { failureCount: state.failureCount, locked, lockedUntil: locked ? state.lockedUntil : null };
}

export class LoginRegulator {
  constructor(private readonly deps: RegulatorDeps) {}

  /**
   * Lets an attempt that will check a secret through, or refuses it: the client
   * address is throttled, or the name is locked or all its places are taken by
   * attempts in flight. `lockout: false` when every backend for the name opts out.
   */
  async admit(usernameKey: string, clientIp: string | null, options: { lockout: boolean }): Promise<Admission> {
    const now = this.deps.clock.now();
    const throttledUntil = await this.throttledUntil(clientIp, now);
    if (throttledUntil !== null) return { admitted: false, reason: 'client_throttled', lockedUntil: throttledUntil };
    const policy = this.deps.lockout();
    if (!options.lockout || policy.maxAllowedLoginFailureCount <= 0) {
      return { admitted: true, attempt: { usernameKey, clientIp, claim: null, clearOnSuccess: false } };
    }
    const claim = await this.deps.counters.claim(usernameKey, now, policy.maxAllowedLoginFailureCount, policy.userLockoutTimeout * 1000);
    if (claim === null) return { admitted: false, reason: 'locked', lockedUntil: await this.lockedUntilAfterRefusal(usernameKey, now, policy) };
    return { admitted: true, attempt: { usernameKey, clientIp, claim, clearOnSuccess: true } };
  }

  /** For a way in that checks no secret (SPNEGO): refused only while the name is locked. */
  async observe(usernameKey: string, clientIp: string | null, options: { lockout: boolean }): Promise<Admission> {
    const policy = this.deps.lockout();
    if (!options.lockout || policy.maxAllowedLoginFailureCount <= 0) {
      return { admitted: true, attempt: { usernameKey, clientIp, claim: null, clearOnSuccess: false } };
    }
    const state = await this.deps.counters.get(usernameKey);
    if (isLocked(state, policy, this.deps.clock.now())) return { admitted: false, reason: 'locked', lockedUntil: state.lockedUntil as number };
    const hasCounter = state.failureCount > 0 || state.lockedUntil !== null;
    return { admitted: true, attempt: { usernameKey, clientIp, claim: null, clearOnSuccess: hasCounter } };
  }

  /** The secret was wrong (or the name unknown): the claimed place stands as a failure; the client address is charged. */
  async fail(attempt: Attempt): Promise<FailureVerdict> {
    const now = this.deps.clock.now();
    const key = attempt.clientIp === null ? null : clientKey(attempt.clientIp);
    const throttle = this.deps.throttle();
    if (key !== null && throttle.maxFailures > 0) await this.deps.clients.recordFailure(key, now, throttle.windowSeconds * 1000);
    const claim = attempt.claim;
    if (claim === null) return { lockedNow: false, failureCount: 0, lockedUntil: null };
    return { lockedNow: claim.lockedUntil !== null, failureCount: claim.failureCount, lockedUntil: claim.lockedUntil };
  }

  /** The secret was right: the name's count starts afresh. */
  async succeed(attempt: Attempt): Promise<void> {
    if (attempt.clearOnSuccess) await this.deps.counters.reset(attempt.usernameKey);
  }

  /** The attempt ended without a verdict on the secret (a directory was down, an account state refused it): its place is given back. */
  async abandon(attempt: Attempt): Promise<void> {
    if (attempt.claim !== null) await this.deps.counters.release(attempt.usernameKey, attempt.claim);
  }

  /** The name's lock state as views show it. */
  async view(usernameKey: string): Promise<LockView> {
    return lockView(await this.deps.counters.get(usernameKey), this.deps.lockout(), this.deps.clock.now());
  }

  /** Failures counted against a client address in its current window (diagnostics, tests). */
  async clientFailures(clientIp: string): Promise<number> {
    const key = clientKey(clientIp);
    if (key === null) return 0;
    return (await this.deps.clients.window(key, this.deps.clock.now(), this.deps.throttle().windowSeconds * 1000))?.failures ?? 0;
  }

  private async throttledUntil(clientIp: string | null, now: number): Promise<number | null> {
    const { maxFailures, windowSeconds } = this.deps.throttle();
    const key = clientIp === null ? null : clientKey(clientIp);
    if (maxFailures <= 0 || key === null) return null;
    const window = await this.deps.clients.window(key, now, windowSeconds * 1000);
    return window !== null && window.failures >= maxFailures ? window.endsAt : null;
  }

  /**
   * A refused claim means locked, or every place taken by attempts still in
   * flight (their last one has already set the lock), or a count left at the
   * limit by a policy change with no lock: then it is locked for a lock period.
   */
  private async lockedUntilAfterRefusal(usernameKey: string, now: number, policy: LockoutPolicy): Promise<number> {
    const state = await this.deps.counters.get(usernameKey);
    return isLocked(state, policy, now) ? (state.lockedUntil as number) : now + policy.userLockoutTimeout * 1000;
  }
}
