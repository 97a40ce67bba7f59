/**
 * WebAuthn security keys and passkeys: registration, the second-factor
 * assertion, and passwordless passkey sign-in. Challenges are stored in the
 * database (any instance finishes a ceremony another began) and used once;
 * the relying party is where users reach Portcullis, from the one public-URL
 * builder (`server.publicUrl`), never a request header. A failed
 * assertion is a failure toward the NEC lockout through the regulator, like a
 * wrong code; a signature counter that did not grow (a cloned authenticator)
 * is refused and audited.
 * May import: shared/, policy/regulator, storage types, mfa/ helpers.
 */
import { createHash } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { z } from 'zod';
import { INTERNAL_BACKEND } from '../authn/internal-backend';
import type { Attempt, LoginRegulator } from '../policy/regulator';
import type { Clock } from '../shared/clock';
import type { Account } from '../accounts/account';
import type { Ceremony, StoredCredential } from '../storage/webauthn-store';
import { type FactorAuditDeps, type Who, auditFactorEvent } from './mfa-service';
import { hashRecoveryCode, newRecoveryCodes } from './recovery-codes';

/** What WebAuthnService needs of storage (src/storage/webauthn-store.ts, mfa-store.ts). */
export interface CredentialStore {
  credentials(accountId: number): Promise<StoredCredential[]>;
  byCredentialId(credentialId: string): Promise<StoredCredential | null>;
  addCredential(credential: Omit<StoredCredential, 'factorId'>, recoveryHashes: string[], now: number): Promise<number>;
  recordUse(factorId: number, signCount: number, now: number): Promise<boolean>;
  putChallenge(challenge: string, ceremony: Ceremony, accountId: number | null, expiresAt: number, now: number): Promise<void>;
  takeChallenge(challenge: string, ceremony: Ceremony, accountId: number | null, now: number): Promise<boolean>;
  hasFactors(accountId: number): Promise<boolean>;
}

/** Where users reach Portcullis (src/http/public-url.ts: server.publicUrl, or the listening address). */
export interface PublicAddress {
  /** The RP ID: the public URL's host name. */
  hostname(): string;
  /** The origin browsers report. */
  origin(): string;
}

const RP_NAME = 'Portcullis';

export interface WebAuthnDeps extends FactorAuditDeps {
  store: CredentialStore;
  regulator: LoginRegulator;
  clock: Clock;
  /** The relying party is wherever users reach Portcullis; read at each ceremony (the listening address is known only once listening). */
  publicUrl: PublicAddress;
  findAccount(accountId: number): Promise<Account | null>;
  /** A passkey sign-in is a login: last_login_at (inactivity rules) moves like a password's. */
  recordLogin(accountId: number, now: number): Promise<void>;
  onAttempt?: (factor: string, outcome: string) => void;
  /** password.maxAgeDays now (0: passwords never expire). */
  maxPasswordAgeDays: () => number;
}

export type KeyVerdict = { status: 'verified'; account: Account } | { status: 'invalid' } | { status: 'locked'; lockedUntil: number };
/** Why a proven passkey still cannot sign in on its own: the password form must run (password change, directory checks). */
export type PasskeyObstacle = 'password_change' | 'directory_account';
export type PasskeyVerdict = KeyVerdict | { status: 'password_required'; reason: PasskeyObstacle };

/**
 * A passkey skips the password, so it skips what only the password login does:
 * the forced or expired password change of an internal account, and for a
 * directory account the directory's own verdict (disabled, expired, locked
 * there) and its attributes, which LDAP and AD release only to a bind.
 */
export function passkeyObstacle(account: Account, maxAgeDays: number, now: number): PasskeyObstacle | null {
  if (account.source !== INTERNAL_BACKEND) return 'directory_account';
  if (account.mustChangePassword) return 'password_change';
  const expired = maxAgeDays > 0 && account.passwordChangedAt !== null && account.passwordChangedAt + maxAgeDays * 86_400_000 <= now;
  return expired ? 'password_change' : null;
}

type Check = 'ok' | 'invalid' | 'cloned';

const CHALLENGE_TTL_MS = 5 * 60 * 1000;
const MAX_RESPONSE_LENGTH = 16 * 1024;

const b64url = z.string().regex(/^[A-Za-z0-9_-]*$/).max(8192);
const attestationSchema = z.looseObject({
  id: b64url,
  rawId: b64url,
  type: z.literal('public-key'),
  response: z.looseObject({ clientDataJSON: b64url, attestationObject: b64url, transports: z.array(z.string().max(32)).max(8).optional() }),
  clientExtensionResults: z.looseObject({}).default({}),
});
const assertionSchema = z.looseObject({
  id: b64url,
  rawId: b64url,
  type: z.literal('public-key'),
  response: z.looseObject({ clientDataJSON: b64url, authenticatorData: b64url, signature: b64url, userHandle: b64url.optional() }),
  clientExtensionResults: z.looseObject({}).default({}),
});

/** The browser's credential (JSON text from the form), or null when it is not one. */
function parseCredential<T>(schema: z.ZodType<T>, text: string): T | null {
  if (text.length === 0 || text.length > MAX_RESPONSE_LENGTH) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The challenge a response answers (from its client data), checked by the library again. */
function challengeOf(clientDataJSON: string): string | null {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof data.challenge === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(data.challenge) ? data.challenge : null;
  } catch {
    return null;
  }
}

/** Opaque WebAuthn user handle of an account (no name in it; distinct if an id is ever reused). */
export function userHandleOf(account: Pick<Account, 'id' | 'createdAt'>): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(`portcullis-user:${account.id}:${account.createdAt}`).digest().subarray(0, 16));
}

export class WebAuthnService {
  constructor(private readonly deps: WebAuthnDeps) {}

  /** Options for `navigator.credentials.create` (a new key for this account). */
  async registrationOptions(account: Account): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.deps.store.credentials(account.id);
    const options = await generateRegistrationOptions({
      rpName: RP_NAME,
      rpID: this.deps.publicUrl.hostname(),
      userName: account.username,
      userDisplayName: account.displayName ?? account.username,
      userID: userHandleOf(account),
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: c.transports })),
      // A discoverable credential can also sign in without the password (passkey).
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    await this.remember(options.challenge, 'register', account.id);
    return options;
  }

  /**
   * Stores a new key once the browser's attestation verifies against a
   * challenge issued for this account. The account's first factor comes with
   * ten recovery codes, returned once.
   */
  async register(account: Account, responseText: string, name: string, who: Who): Promise<{ recoveryCodes: string[] } | null> {
    const response = parseCredential(attestationSchema, responseText) as RegistrationResponseJSON | null;
    const challenge = response ? challengeOf(response.response.clientDataJSON) : null;
    if (!response || !challenge || !(await this.deps.store.takeChallenge(challenge, 'register', account.id, this.deps.clock.now()))) return null;
    const { publicUrl } = this.deps;
    const verified = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: publicUrl.origin(), expectedRPID: publicUrl.hostname(), requireUserVerification: false }).catch(() => null);
    if (!verified?.verified) return null;
    const { credential } = verified.registrationInfo;
    if (await this.deps.store.byCredentialId(credential.id)) return null;
    const recoveryCodes = (await this.deps.store.hasFactors(account.id)) ? [] : newRecoveryCodes();
    const credentialName = name.trim().slice(0, 64) || 'Security key';
    await this.deps.store.addCredential(
      { accountId: account.id, name: credentialName, credentialId: credential.id, publicKey: Buffer.from(credential.publicKey).toString('base64url'), signCount: credential.counter, transports: credential.transports ?? [] },
      recoveryCodes.map(hashRecoveryCode),
      this.deps.clock.now(),
    );
    await auditFactorEvent(this.deps, 'mfa_enrolled', account, who, { factor: 'webauthn', name: credentialName, userVerified: verified.registrationInfo.userVerified });
    return { recoveryCodes };
  }

  /** Options for `navigator.credentials.get` as a second factor: this account's keys, user verification preferred. */
  async authenticationOptions(account: Account): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const keys = await this.deps.store.credentials(account.id);
    const options = await generateAuthenticationOptions({
      rpID: this.deps.publicUrl.hostname(),
      allowCredentials: keys.map((c) => ({ id: c.credentialId, transports: c.transports })),
      userVerification: 'preferred',
    });
    await this.remember(options.challenge, 'authenticate', account.id);
    return options;
  }

  /** Options for passwordless sign-in: any discoverable credential, user verification required. */
  async passkeyOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await generateAuthenticationOptions({ rpID: this.deps.publicUrl.hostname(), userVerification: 'required' });
    await this.remember(options.challenge, 'passkey', null);
    return options;
  }

  async hasKeys(accountId: number): Promise<boolean> {
    return (await this.deps.store.credentials(accountId)).length > 0;
  }

  /** A security key as the second factor of this account, through the regulator like a code. */
  async verify(account: Account, responseText: string, who: Who): Promise<KeyVerdict> {
    const response = parseCredential(assertionSchema, responseText) as AuthenticationResponseJSON | null;
    const credential = response ? await this.deps.store.byCredentialId(response.id) : null;
    return this.regulated(account, who, 'webauthn', () =>
      response && credential && credential.accountId === account.id ? this.check(credential, response, 'authenticate', account.id, false) : Promise.resolve('invalid'),
    );
  }

  /**
   * Passwordless sign-in: the credential names the account, whose lockout
   * (and the client address's throttle) then apply as for a password.
   */
  async verifyPasskey(responseText: string, who: Who): Promise<PasskeyVerdict> {
    const response = parseCredential(assertionSchema, responseText) as AuthenticationResponseJSON | null;
    const credential = response ? await this.deps.store.byCredentialId(response.id) : null;
    const account = credential ? await this.deps.findAccount(credential.accountId) : null;
    if (!response || !credential || !account || !account.enabled) {
      this.deps.onAttempt?.('passkey', 'failure');
      await auditFactorEvent(this.deps, 'passkey_failed', { username: account?.username ?? null }, who, { reason: account && !account.enabled ? 'account_disabled' : 'unknown_credential' });
      return { status: 'invalid' };
    }
    const handle = response.response.userHandle;
    const verdict = await this.regulated(account, who, 'passkey', () =>
      handle !== undefined && handle !== Buffer.from(userHandleOf(account)).toString('base64url') ? Promise.resolve('invalid') : this.check(credential, response, 'passkey', null, true),
    );
    if (verdict.status !== 'verified') return verdict;
    const now = this.deps.clock.now();
    const login = { event: 'login', username: account.username, backend: account.source, clientIp: who.clientIp, userAgent: who.userAgent };
    const obstacle = passkeyObstacle(account, this.deps.maxPasswordAgeDays(), now);
    if (obstacle) {
      await this.deps.audit.append({ ...login, outcome: 'failure', details: { channel: who.channel, method: 'passkey', reason: obstacle } }, now);
      return { status: 'password_required', reason: obstacle };
    }
    await this.deps.recordLogin(account.id, now);
    await this.deps.audit.append({ ...login, outcome: 'success', details: { channel: who.channel, method: 'passkey' } }, now);
    return verdict;
  }

  private async remember(challenge: string, ceremony: Ceremony, accountId: number | null): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.store.putChallenge(challenge, ceremony, accountId, now + CHALLENGE_TTL_MS, now);
  }

  /** admit → check → succeed or fail, as MfaService.verify does for codes. */
  private async regulated(account: Account, who: Who, factor: 'webauthn' | 'passkey', check: () => Promise<Check>): Promise<KeyVerdict> {
    const admission = await this.deps.regulator.admit(account.usernameKey, who.clientIp, { lockout: true });
    if (!admission.admitted) {
      await auditFactorEvent(this.deps, 'mfa_failed', account, who, { factor, reason: admission.reason });
      return { status: 'locked', lockedUntil: admission.lockedUntil };
    }
    let outcome: Check;
    try {
      outcome = await check();
    } catch (error) {
      await this.deps.regulator.abandon(admission.attempt).catch(() => undefined);
      throw error;
    }
    if (outcome === 'ok') {
      await this.deps.regulator.succeed({ ...admission.attempt, clearOnSuccess: true });
      this.deps.onAttempt?.(factor, 'success');
      await auditFactorEvent(this.deps, 'mfa_used', account, who, { factor });
      return { status: 'verified', account };
    }
    await this.refused(admission.attempt, account, who, factor, outcome);
    return { status: 'invalid' };
  }

  private async refused(attempt: Attempt, account: Account, who: Who, factor: string, outcome: Check): Promise<void> {
    const verdict = await this.deps.regulator.fail(attempt);
    this.deps.onAttempt?.(factor, 'failure');
    if (outcome === 'cloned') await auditFactorEvent(this.deps, 'webauthn_clone_suspected', account, who, { factor });
    await auditFactorEvent(this.deps, 'mfa_failed', account, who, { factor, reason: outcome === 'cloned' ? 'counter_not_increased' : 'invalid_assertion' });
    if (verdict.lockedNow) await auditFactorEvent(this.deps, 'account_locked', account, who, { failures: verdict.failureCount, lockedUntil: verdict.lockedUntil, factor: 'second' });
  }

  /**
   * The assertion's challenge is used up first (single use even if the rest
   * fails), then its signature is verified; only a genuine signature whose
   * counter did not grow is taken as a clone.
   */
  private async check(credential: StoredCredential, response: AuthenticationResponseJSON, ceremony: Ceremony, accountId: number | null, requireUv: boolean): Promise<Check> {
    const challenge = challengeOf(response.response.clientDataJSON);
    const now = this.deps.clock.now();
    if (!challenge || !(await this.deps.store.takeChallenge(challenge, ceremony, accountId, now))) return 'invalid';
    const { publicUrl } = this.deps;
    const verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: publicUrl.origin(),
      expectedRPID: publicUrl.hostname(),
      // Counter 0 here: the counter is compared below, after the signature proved the response genuine.
      credential: { id: credential.credentialId, publicKey: new Uint8Array(Buffer.from(credential.publicKey, 'base64url')), counter: 0, transports: credential.transports },
      requireUserVerification: requireUv,
    }).catch(() => null);
    if (!verified?.verified) return 'invalid';
    const counter = verified.authenticationInfo.newCounter;
    if ((counter > 0 || credential.signCount > 0) && counter <= credential.signCount) return 'cloned';
    return (await this.deps.store.recordUse(credential.factorId, counter, now)) ? 'ok' : 'cloned';
  }
}
