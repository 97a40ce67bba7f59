/**
 * The one rule for "does this sign-in need a second factor before it
 * completes", asked by every way in: the login pages (fresh sign-in and
 * step-up of a live session) and the ways that take the code with the
 * password (REST tickets, API tokens). Pure: the caller brings the facts.
 * May import: accounts/account types, storage/mfa-store types, tickets/sessions.
 */
import type { Role } from '../accounts/account';
import type { FactorKind } from '../storage/mfa-store';
import { hasSecondFactor } from '../tickets/sessions';

export type MfaRequirement = 'never' | 'admins' | 'all';

export interface SecondFactorFacts {
  /** Policy `mfa.require`. */
  requirement: MfaRequirement;
  /**
   * The account's role and enrolled factor kinds. Omitted for a live session
   * (no I/O on the single sign-on path): its creation already applied them,
   * since a session is created with a second factor whenever its account needed one.
   */
  account?: { role: Role; enrolled: readonly FactorKind[] };
  /** This login asks for one: `authn_method=mfa` (Apereo's parameter), or a service registered with `mfa: required`. */
  requested: boolean;
  /** How the live session signed in (its methods: password, spnego, passkey, totp, …); [] for a fresh sign-in, which has no session yet. */
  sessionMethods: readonly string[];
}

/** Whether policy `mfa.require` asks an account of this role for a second factor. */
export function policyRequires(requirement: MfaRequirement, role: Role): boolean {
  return requirement === 'all' || (requirement === 'admins' && role === 'admin');
}

/**
 * A second factor is needed unless the session already has one; then when the
 * login asks for one, the account has one enrolled (an enrolled factor is
 * always used), or policy requires one for its role.
 */
export function secondFactorNeeded(facts: SecondFactorFacts): boolean {
  if (hasSecondFactor({ methods: [...facts.sessionMethods] })) return false;
  if (facts.requested) return true;
  const account = facts.account;
  return account !== undefined && (account.enrolled.length > 0 || policyRequires(facts.requirement, account.role));
}
