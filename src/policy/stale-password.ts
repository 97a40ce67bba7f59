import { INTERNAL_BACKEND } from '../authn/internal-backend';
import type { Account } from '../accounts/account';
import type { PasswordPolicy, PasswordViolation } from './password-policy';

/**
 * Sign-ins already found compliant, keyed by account, stored hash, names and
 * policy: the password was verified against that hash, so the same key means
 * the same password under the same rules, and a returning user costs no second
 * strength estimate. Bounded; the oldest keys go first.
 */
export class CompliantPasswords {
  private readonly keys = new Set<string>();

  constructor(private readonly limit = 10_000) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    if (this.keys.size >= this.limit) this.keys.delete(this.keys.values().next().value as string);
    this.keys.add(key);
  }
}

/**
 * The rules an internal account's current password breaks today (a newer
 * policy, a newly imported breach list, a legacy MD5 password never checked).
 * Empty for directory accounts (their directory owns the password) and for
 * accounts already due to change it. `policyKey` must change whenever the
 * rules or the breach filter do.
 */
export function stalePasswordCheck(
  policy: () => PasswordPolicy,
  account: Account,
  password: string,
  remembered?: { compliant: CompliantPasswords; policyKey: string },
): PasswordViolation['rule'][] {
  if (account.source !== INTERNAL_BACKEND || account.mustChangePassword) return [];
  const key = JSON.stringify([account.id, account.passwordHash, account.displayName, account.email, remembered?.policyKey]);
  if (remembered?.compliant.has(key)) return [];
  const rules = policy().check(password, account).map((v) => v.rule);
  if (rules.length === 0) remembered?.compliant.add(key);
  return rules;
}
