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

/**
 * Characters a new name may not hold, in the spirit of PRECIS
 * UsernameCaseMapped (RFC 8265): they are invisible, reorder what is shown,
 * or may mean something else tomorrow, so "admin\u200b" or a name with a
 * right-to-left override could pass for someone else. Spaces other than
 * U+0020 are refused because NFKC would fold them into one anyway.
 */
const NEW_NAME_REFUSED: { pattern: RegExp; what: string }[] = [
  { pattern: /\p{Cc}/u, what: 'a control character' },
  { pattern: /\p{Cf}/u, what: 'an invisible formatting character (zero-width, bidirectional or similar)' },
  { pattern: /\p{Default_Ignorable_Code_Point}/u, what: 'an invisible character' },
  { pattern: /[\p{Zl}\p{Zp}]|(?! )\p{Zs}/u, what: 'a space other than U+0020' },
  { pattern: /\p{Co}/u, what: 'a private-use character' },
  { pattern: /\p{Cs}/u, what: 'a lone surrogate' },
  { pattern: /\p{Cn}/u, what: 'an unassigned code point' },
];

function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why an (already stored or new) name would be refused as a new name today, or null. */
export function newUsernameProblem(username: string): string | null {
  for (const { pattern, what } of NEW_NAME_REFUSED) {
    const match = pattern.exec(username);
    if (match) return `contains ${codePoint(match[0])}, ${what}`;
  }
  return null;
}

/**
 * The rules for a name about to become an account (API, CLI, legacy import,
 * directory provisioning). Sign-in keeps the looser validateUsername, so an
 * existing account whose name predates these rules can still sign in; such
 * names are listed by `portcullis user audit-names`.
 */
export function validateNewUsername(username: string): string {
  const name = validateUsername(username);
  const problem = newUsernameProblem(name);
  if (problem) {
    const message = `Username ${problem}; names may not contain control, formatting (zero-width, bidirectional), invisible or unassigned characters.`;
    throw new InputError(message, 422, [{ field: 'username', rule: 'username_characters', message: problem }]);
  }
  return name;
}
