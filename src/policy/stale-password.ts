import { INTERNAL_BACKEND } from '../authn/internal-backend';
import type { Account } from '../storage/accounts-repo';
import type { PasswordPolicy, PasswordViolation } from './password-policy';

/**
 * The rules an internal account's current password breaks today (a newer
 * policy, a newly imported breach list, a legacy MD5 password never checked).
 * Empty for directory accounts (their directory owns the password) and for
 * accounts already due to change it.
 */
export function stalePasswordCheck(policy: () => PasswordPolicy, account: Account, password: string): PasswordViolation['rule'][] {
  if (account.source !== INTERNAL_BACKEND || account.mustChangePassword) return [];
  return policy().check(password, account).map((v) => v.rule);
}
