/**
 * Second factors: enrolment, verification, listing, removal. Applies the MFA
 * policy (who must use a factor: second-factor-rule.ts) and owns the rule
 * that a wrong code counts toward the NEC lockout exactly like a wrong
 * password (through the regulator).
 * May import: shared/, policy/regulator, storage/mfa-store types, mfa/ helpers.
 */
import type { Account } from '../accounts/account';
import type { AuditEvent } from '../storage/audit-log';
import type { FactorKind, StoredFactor } from '../storage/mfa-store';
import type { Attempt, LoginRegulator } from '../policy/regulator';
import type { Clock } from '../shared/clock';
import { NotFoundError } from '../shared/errors';
import { hashRecoveryCode, looksLikeRecoveryCode, matchingHash, newRecoveryCodes } from './recovery-codes';
import type { SecretBox } from './secret-box';
import { matchingStep, newTotpSecret, provisioningUri } from './totp';
import { qrSvg } from './qr';
import { type MfaRequirement, type SecondFactorFacts, secondFactorNeeded } from './second-factor-rule';

/** What MfaService needs of storage (src/storage/mfa-store.ts). */
export interface FactorStore {
  list(accountId: number): Promise<StoredFactor[]>;
  kinds(accountId: number): Promise<FactorKind[]>;
  addTotp(accountId: number, name: string, sealedSecret: string, usedStep: number, recoveryHashes: string[], now: number): Promise<number>;
  replaceRecoveryCodes(accountId: number, hashes: string[], now: number): Promise<void>;
  useStep(factorId: number, step: number, now: number): Promise<boolean>;
  consumeRecoveryCode(factorId: number, accountId: number): Promise<boolean>;
  remove(accountId: number, factorId: number): Promise<StoredFactor | null>;
  reset(accountId: number): Promise<number>;
  reviewFlag(accountId: number): Promise<boolean>;
}

export interface MfaDeps {
  store: FactorStore;
  box: SecretBox;
  regulator: LoginRegulator;
  audit: { append(event: AuditEvent, at: number): Promise<void> };
  clock: Clock;
  requirement: () => MfaRequirement;
  issuer: string;
  /** Counts attempts for /metrics (portcullis_mfa_attempts_total). */
  onAttempt?: (factor: string, outcome: string) => void;
}

/** What a user sees of a factor: never a secret. */
export interface FactorInfo {
  id: number;
  kind: FactorKind;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface TotpEnrolment {
  secret: string;
  uri: string;
  qrSvg: string;
}

export type CodeVerdict =
  | { status: 'verified'; factor: 'totp' | 'recovery' }
  | { status: 'invalid' }
  | { status: 'locked'; lockedUntil: number };

export interface Who {
  clientIp: string | null;
  userAgent: string | null;
  channel: string;
  /** Acting administrator, when not the account itself. */
  actor?: string;
}

const MAX_CODE_LENGTH = 32;

export class MfaService {
  constructor(private readonly deps: MfaDeps) {}

  /** Whether a sign-in needs a second factor before it completes, under today's `mfa.require` (src/mfa/second-factor-rule.ts). */
  secondFactorNeeded(facts: Omit<SecondFactorFacts, 'requirement'>): boolean {
    return secondFactorNeeded({ ...facts, requirement: this.deps.requirement() });
  }

  async enrolledKinds(accountId: number): Promise<FactorKind[]> {
    return this.deps.store.kinds(accountId);
  }

  async list(accountId: number): Promise<FactorInfo[]> {
    return (await this.deps.store.list(accountId)).map(({ id, kind, name, createdAt, lastUsedAt }) => ({ id, kind, name, createdAt, lastUsedAt }));
  }

  async needsReview(accountId: number): Promise<boolean> {
    return this.deps.store.reviewFlag(accountId);
  }

  /** A fresh TOTP secret to show (QR code and text); nothing is stored until a code confirms it. */
  async beginTotp(account: Pick<Account, 'username'>): Promise<TotpEnrolment> {
    return this.enrolmentFor(newTotpSecret(), account);
  }

  /** The QR code and URI of a secret being enrolled (shown again after a mistyped code). */
  async enrolmentFor(secret: string, account: Pick<Account, 'username'>): Promise<TotpEnrolment> {
    const uri = provisioningUri(secret, this.deps.issuer, account.username);
    return { secret, uri, qrSvg: await qrSvg(uri) };
  }

  /**
   * Stores a TOTP factor once a code from the user's app proves it was set up
   * right. The first factor of an account comes with ten recovery codes,
   * returned here once and stored only as hashes.
   */
  async confirmTotp(account: Account, secret: string, code: string, name: string, who: Who): Promise<{ recoveryCodes: string[] } | null> {
    const now = this.deps.clock.now();
    const step = /^[A-Z2-7]{16,64}$/.test(secret) ? matchingStep(secret, code.trim(), now) : null;
    if (step === null) return null;
    const hadFactors = (await this.deps.store.kinds(account.id)).length > 0;
    const recoveryCodes = hadFactors ? [] : newRecoveryCodes();
    await this.deps.store.addTotp(account.id, name.trim().slice(0, 64) || 'Authenticator app', this.deps.box.seal(secret, account.id), step, recoveryCodes.map(hashRecoveryCode), now);
    await this.audit('mfa_enrolled', account, who, { factor: 'totp' });
    return { recoveryCodes };
  }

  /** New recovery codes replace the old ones (shown once). */
  async regenerateRecoveryCodes(account: Account, who: Who): Promise<string[]> {
    const codes = newRecoveryCodes();
    await this.deps.store.replaceRecoveryCodes(account.id, codes.map(hashRecoveryCode), this.deps.clock.now());
    await this.audit('mfa_recovery_codes_regenerated', account, who, {});
    return codes;
  }

  /**
   * Checks a second-factor code (TOTP, or a recovery code) through the
   * regulator: a locked account gets "locked" whatever it sends, and a wrong
   * code is a failure toward the NEC lockout like a wrong password.
   */
  async verify(account: Account, code: string, who: Who): Promise<CodeVerdict> {
    const admission = await this.deps.regulator.admit(account.usernameKey, who.clientIp, { lockout: true });
    if (!admission.admitted) {
      await this.audit('mfa_failed', account, who, { reason: admission.reason });
      return { status: 'locked', lockedUntil: admission.lockedUntil };
    }
    let factor: 'totp' | 'recovery' | null;
    try {
      factor = await this.check(account, code.trim().slice(0, MAX_CODE_LENGTH));
    } catch (error) {
      await this.deps.regulator.abandon(admission.attempt).catch(() => undefined);
      throw error;
    }
    return factor ? this.accepted(admission.attempt, account, factor, who) : this.refused(admission.attempt, account, who);
  }

  async remove(account: Account, factorId: number, who: Who): Promise<void> {
    const removed = await this.deps.store.remove(account.id, factorId);
    if (!removed) throw new NotFoundError(`"${account.username}" has no factor ${factorId}.`);
    await this.audit('mfa_removed', account, who, { factor: removed.kind, name: removed.name });
  }

  async reset(account: Account, who: Who): Promise<number> {
    const removed = await this.deps.store.reset(account.id);
    await this.audit('mfa_reset', account, who, { removed });
    return removed;
  }

  /** Which factor the code satisfies, or null; a TOTP step is consumed here (single use). */
  private async check(account: Account, code: string): Promise<'totp' | 'recovery' | null> {
    const factors = await this.deps.store.list(account.id);
    const now = this.deps.clock.now();
    if (looksLikeRecoveryCode(code)) {
      const codes = factors.filter((f) => f.kind === 'recovery' && f.codeHash !== null);
      const index = matchingHash(code, codes.map((f) => f.codeHash as string));
      return index >= 0 && (await this.deps.store.consumeRecoveryCode(codes[index].id, account.id)) ? 'recovery' : null;
    }
    // Each TOTP factor is tried in full (no early exit), so a wrong code costs what a right one does.
    let match: { factor: StoredFactor; step: number } | null = null;
    for (const factor of factors.filter((f) => f.kind === 'totp' && f.secret !== null)) {
      const step = matchingStep(this.deps.box.open(factor.secret as string, account.id), code, now);
      if (step !== null && match === null && (factor.lastUsedStep === null || step > factor.lastUsedStep)) match = { factor, step };
    }
    return match && (await this.deps.store.useStep(match.factor.id, match.step, now)) ? 'totp' : null;
  }

  private async accepted(attempt: Attempt, account: Account, factor: 'totp' | 'recovery', who: Who): Promise<CodeVerdict> {
    await this.deps.regulator.succeed({ ...attempt, clearOnSuccess: true });
    this.deps.onAttempt?.(factor, 'success');
    await this.audit(factor === 'recovery' ? 'mfa_recovery_code_used' : 'mfa_used', account, who, { factor });
    return { status: 'verified', factor };
  }

  private async refused(attempt: Attempt, account: Account, who: Who): Promise<CodeVerdict> {
    const verdict = await this.deps.regulator.fail(attempt);
    this.deps.onAttempt?.('code', 'failure');
    await this.audit('mfa_failed', account, who, { reason: 'invalid_code' });
    if (verdict.lockedNow) await this.audit('account_locked', account, who, { failures: verdict.failureCount, lockedUntil: verdict.lockedUntil, factor: 'second' });
    return { status: 'invalid' };
  }

  private async audit(event: string, account: Pick<Account, 'username'>, who: Who, details: Record<string, unknown>): Promise<void> {
    await auditFactorEvent(this.deps, event, account, who, details);
  }
}

export interface FactorAuditDeps {
  audit: { append(event: AuditEvent, at: number): Promise<void> };
  clock: Clock;
}

const FAILURE_EVENTS = new Set(['mfa_failed', 'passkey_failed']);
const INFO_EVENTS = new Set(['account_locked', 'webauthn_clone_suspected']);

/** One audit record of a second-factor event (shared by codes and security keys). */
export async function auditFactorEvent(deps: FactorAuditDeps, event: string, account: { username: string | null }, who: Who, details: Record<string, unknown>): Promise<void> {
  const outcome = FAILURE_EVENTS.has(event) ? 'failure' : INFO_EVENTS.has(event) ? 'info' : 'success';
  await deps.audit.append(
    { event, outcome, username: account.username, clientIp: who.clientIp, userAgent: who.userAgent, ...(who.actor ? { actor: who.actor } : {}), details: { ...details, channel: who.channel } },
    deps.clock.now(),
  );
}
