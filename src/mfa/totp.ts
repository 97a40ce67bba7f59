import { timingSafeEqual } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as authenticator apps expect it: SHA-1, 6 digits, 30-second steps. */
const PERIOD_MS = 30_000;
/** ±1 step of clock drift between the phone and the server. */
const DRIFT_STEPS = 1;

function totpFor(secretBase32: string, label = '', issuer = ''): TOTP {
  return new TOTP({ issuer, label, algorithm: 'SHA1', digits: 6, period: PERIOD_MS / 1000, secret: Secret.fromBase32(secretBase32) });
}

/** A new random 160-bit secret, base32 (what apps and the otpauth:// URI take). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export function provisioningUri(secretBase32: string, issuer: string, accountName: string): string {
  return totpFor(secretBase32, accountName, issuer).toString();
}

export function stepAt(now: number): number {
  return Math.floor(now / PERIOD_MS);
}

/** The code for a time (tests and enrolment checks compute codes the same way an app does). */
export function totpCode(secretBase32: string, at: number): string {
  return totpFor(secretBase32).generate({ timestamp: at });
}

/**
 * The step whose code matches, within ±1 step of `now`, or null. Every
 * candidate is computed and compared in constant time, right or wrong, so the
 * answer's timing says nothing about which step (if any) matched.
 */
export function matchingStep(secretBase32: string, code: string, now: number): number | null {
  const totp = totpFor(secretBase32);
  const given = Buffer.from(code.padEnd(6, ' ').slice(0, 6));
  const current = stepAt(now);
  let matched: number | null = null;
  for (let delta = -DRIFT_STEPS; delta <= DRIFT_STEPS; delta++) {
    const expected = Buffer.from(totp.generate({ timestamp: (current + delta) * PERIOD_MS }));
    const equal = timingSafeEqual(expected, given) && code.length === 6;
    if (equal && matched === null) matched = current + delta;
  }
  return matched;
}
