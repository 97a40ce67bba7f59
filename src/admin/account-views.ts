import type { Knex } from 'knex';
import type { z } from 'zod';
import { isLegacyMd5 } from '../authn/password-hasher';
import { INTERNAL_BACKEND } from '../authn/internal-backend';
import type { Account, Role } from '../accounts/account';
import { toAccount } from '../storage/accounts-repo';
import type { LockView } from '../policy/regulator';
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

type AccountRow = Parameters<typeof toAccount>[0];
type ListedRow = AccountRow & { lockout_failures: number | string | null; lockout_until: number | string | null };

/**
 * Accounts with their lockout state, paged. Lockout counters are keyed by the
 * username key (unknown names lock too), so this is a left join on that key.
 */
export async function listAccounts(db: Knex, filter: AccountListFilter, now: number): Promise<{ items: { account: Account; lockout: LockoutState }[]; total: number }> {
  const query = db('accounts as a').leftJoin('lockout_state as l', 'l.username_key', 'a.username_key');
  if (filter.role) query.where('a.role', filter.role);
  if (filter.source) query.where('a.source', filter.source);
  if (filter.state) query.where('a.enabled', filter.state === 'enabled');
  if (filter.locked === true) query.where('l.locked_until', '>', now);
  if (filter.locked === false) query.where((q) => q.whereNull('l.locked_until').orWhere('l.locked_until', '<=', now));
  if (filter.search) {
    const pattern = `%${filter.search.normalize('NFKC').toLowerCase().replace(/[\\%_[]/g, (c) => `\\${c}`)}%`;
    query.whereRaw("a.username_key LIKE ? ESCAPE '\\'", [pattern]);
  }
  const [count] = await query.clone().count<{ n: number | string }[]>({ n: '*' });
  const rows = (await query
    .select('a.*', 'l.failure_count as lockout_failures', 'l.locked_until as lockout_until')
    .orderBy('a.username_key')
    .offset(filter.offset ?? 0)
    .limit(filter.limit ?? 50)) as ListedRow[];
  return {
    total: Number(count?.n ?? 0),
    items: rows.map((row) => ({
      account: toAccount(row),
      lockout: { failureCount: Number(row.lockout_failures ?? 0), lockedUntil: row.lockout_until === null ? null : Number(row.lockout_until) },
    })),
  };
}
