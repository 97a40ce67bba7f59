import { InputError } from './errors';

export const MAX_USERNAME_LENGTH = 256;

/**
 * Usernames are stored as typed (NFC) for display, and compared by a key:
 * NFKC-normalized, then lower-cased, so "Admin", "ADMIN" and the full-width
 * "ＡＤＭＩＮ" are one account.
 */
export function usernameKey(username: string): string {
  return username.normalize('NFKC').toLowerCase();
}

export function displayUsername(username: string): string {
  return username.normalize('NFC').trim();
}

/** Rejects names that cannot be an account name anywhere (control characters, empty, too long). */
export function validateUsername(username: string): string {
  const name = displayUsername(username);
  if (name.length === 0) throw new InputError('Username is required.');
  if (name.length > MAX_USERNAME_LENGTH) throw new InputError(`Username is longer than ${MAX_USERNAME_LENGTH} characters.`);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is rejected here
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new InputError('Username contains control characters.');
  return name;
}
