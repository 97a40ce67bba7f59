import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;
// No 0/O, 1/I/L: codes are read off paper and typed by hand.
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const GROUPS = 3;
const GROUP_LENGTH = 4;

/** Ten single-use codes like `K7QX-3MPA-W9RT` (about 59 bits each), shown once. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () =>
    Array.from({ length: GROUPS }, () => Array.from({ length: GROUP_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')).join('-'),
  );
}

/** What a user typed, as stored: dashes, spaces and case do not matter. */
export function normalizeRecoveryCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '');
}

export function looksLikeRecoveryCode(input: string): boolean {
  return normalizeRecoveryCode(input).length === GROUPS * GROUP_LENGTH && /^[A-Z0-9]+$/.test(normalizeRecoveryCode(input));
}

/** Stored form: SHA-256 (the codes are random, so a slow hash would add nothing). */
export function hashRecoveryCode(input: string): string {
  return createHash('sha256').update(normalizeRecoveryCode(input)).digest('hex');
}

/** The index of the stored hash that matches, comparing against every one in constant time. */
export function matchingHash(input: string, hashes: readonly string[]): number {
  const given = Buffer.from(hashRecoveryCode(input), 'hex');
  let found = -1;
  hashes.forEach((hash, index) => {
    if (timingSafeEqual(Buffer.from(hash, 'hex'), given) && found === -1) found = index;
  });
  return found;
}
