import type { z } from 'zod';
import { isLegacyMd5 } from '../authn/password-hasher';
import { INTERNAL_BACKEND } from '../authn/internal-backend';
import type { Account, Role } from '../accounts/account';
import { type LockView, type LockoutPolicy, lockoutOn } from '../policy/regulator';
import type { LockoutState } from '../storage/lockout-store';
import type { accountSchema, lockoutStateSchema } from './schemas';

export type AccountView = z.output<typeof accountSchema>;
export type LockoutView = z.output<typeof lockoutStateSchema>;

const DAY_MS = 86_400_000;

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}

/** The regulator's view of a name's lock, as the API shows it. */
export function lockoutView(view: LockView): LockoutView {
  return { failureCount: view.failureCount, locked: view.locked, lockedUntil: isoOrNull(view.lockedUntil) };
}

export function passwordExpiresAt(account: Account, maxAgeDays: number): number | null {
  if (maxAgeDays <= 0 || account.source !== INTERNAL_BACKEND || account.passwordChangedAt === null) return null;
  return account.passwordChangedAt + maxAgeDays * DAY_MS;
}

/** What the API shows of an account: never the hash, only whether there is one and whether it is legacy MD5. */
export function accountView(account: Account, lockout: LockView, maxAgeDays: number): AccountView {
  return {
    id: account.id,
    username: account.username,
    displayName: account.displayName,
    email: account.email,
    description: account.description,
    role: account.role,
    enabled: account.enabled,
    source: account.source,
    hasPassword: account.passwordHash !== null,
    legacyPasswordHash: account.passwordHash !== null && isLegacyMd5(account.passwordHash),
    mustChangePassword: account.mustChangePassword,
    passwordChangedAt: isoOrNull(account.passwordChangedAt),
    passwordExpiresAt: isoOrNull(passwordExpiresAt(account, maxAgeDays)),
    lastLoginAt: isoOrNull(account.lastLoginAt),
    createdAt: isoTime(account.createdAt),
    updatedAt: isoTime(account.updatedAt),
    version: account.version,
    lockout: lockoutView(lockout),
  };
}

export function etagOf(account: Account): string {
  return `"${account.version}"`;
}

export interface AccountListFilter {
  role?: Role;
  source?: string;
  state?: 'enabled' | 'disabled';
  locked?: boolean;
  search?: string;
  offset?: number;
  limit?: number;
}

/** What listing needs of the accounts table (src/storage/accounts-repo.ts: the one account-list query). */
export interface AccountLister {
  listWithLockout(
    filter: Omit<AccountListFilter, 'state'> & { enabled?: boolean },
    now: number,
  ): Promise<{ items: { account: Account; lockout: LockoutState }[]; total: number }>;
}

/**
 * Accounts with their names' lockout counters, paged (the API's and the console's list).
 * With lockout off, `locked` filters by the regulator's rule (nothing is locked), not by stored counters.
 */
export async function listAccounts(
  accounts: AccountLister,
  filter: AccountListFilter,
  now: number,
  lockout: LockoutPolicy,
): Promise<{ items: { account: Account; lockout: LockoutState }[]; total: number }> {
  const { state, locked, ...rest } = filter;
  if (locked === true && !lockoutOn(lockout)) return { items: [], total: 0 };
  const byLock = locked !== undefined && lockoutOn(lockout) ? { locked } : {};
  return accounts.listWithLockout({ ...rest, ...byLock, ...(state ? { enabled: state === 'enabled' } : {}) }, now);
}
