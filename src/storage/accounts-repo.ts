import type { Knex } from 'knex';
import { FACTOR_KINDS, type FactorKind } from './mfa-store';
import { affected } from './db';

import type { Account, AccountChanges, AccountFilter, NewAccount } from '../accounts/account';
import { usernameKey } from '../shared/username';
import type { LockoutState } from './lockout-store';

interface AccountRow {
  id: number;
  username: string;
  username_key: string;
  display_name: string | null;
  email: string | null;
  description: string | null;
  role: string;
  enabled: number | boolean;
  source: string;
  external_id: string | null;
  password_hash: string | null;
  must_change_password: number | boolean;
  password_changed_at: number | string | null;
  last_login_at: number | string | null;
  created_at: number | string;
  updated_at: number | string;
  version: number;
}

type ListedRow = AccountRow & { lockout_failures: number | string | null; lockout_until: number | string | null };

export interface AccountListFilter extends AccountFilter {
  locked?: boolean;
}

/** A listed account and its name's lockout counter. */
export interface ListedAccount {
  account: Account;
  lockout: LockoutState;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function toAccount(row: AccountRow): Account {
  return {
    id: Number(row.id),
    username: row.username,
    usernameKey: row.username_key,
    displayName: row.display_name,
    email: row.email,
    description: row.description,
    role: row.role === 'admin' ? 'admin' : 'user',
    enabled: Boolean(row.enabled),
    source: row.source,
    externalId: row.external_id,
    passwordHash: row.password_hash,
    mustChangePassword: Boolean(row.must_change_password),
    passwordChangedAt: num(row.password_changed_at),
    lastLoginAt: num(row.last_login_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    version: Number(row.version),
  };
}

const CHANGE_COLUMNS: Record<keyof AccountChanges, string> = {
  displayName: 'display_name',
  email: 'email',
  description: 'description',
  role: 'role',
  enabled: 'enabled',
  externalId: 'external_id',
};

/**
 * Account storage. Every method works on the knex handle it was built with,
 * so the same repository runs inside a transaction (see `transaction`).
 */
export class AccountRepository {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  /** Runs `work` in one transaction with a repository bound to it. */
  async transaction<T>(work: (repo: AccountRepository, trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction((trx) => work(new AccountRepository(trx), trx));
  }

  /**
   * Serializes every change to who is an administrator: the row update takes a
   * row lock (PostgreSQL, SQL Server) or the write lock (SQLite) that the other
   * transactions wait on, so count-then-write checks cannot interleave.
   */
  async lockAdministratorRoster(): Promise<void> {
    await this.db('policy_locks').where({ name: 'administrators' }).increment('version', 1);
  }

  async findByKey(usernameKey: string): Promise<Account | null> {
    const row = await this.db<AccountRow>('accounts').where({ username_key: usernameKey }).first();
    return row ? toAccount(row) : null;
  }

  /**
   * An account and the kinds of second factor it has enrolled, in one round
   * trip: the sign-in's own account read (CASE WHEN EXISTS reads the same on
   * SQLite, PostgreSQL and SQL Server, and each probe uses the account_id index).
   */
  async findByKeyWithFactors(usernameKey: string): Promise<{ account: Account; factors: FactorKind[] } | null> {
    const probes = FACTOR_KINDS.map((kind) =>
      this.db.raw('CASE WHEN EXISTS (SELECT 1 FROM mfa_factors WHERE mfa_factors.account_id = accounts.id AND mfa_factors.kind = ?) THEN 1 ELSE 0 END AS ??', [kind, `has_${kind}`]),
    );
    const row = (await this.db('accounts').where({ username_key: usernameKey }).first('accounts.*', ...probes)) as (AccountRow & Record<string, unknown>) | undefined;
    return row ? { account: toAccount(row), factors: FACTOR_KINDS.filter((kind) => Number(row[`has_${kind}`]) === 1) } : null;
  }

  async findById(id: number): Promise<Account | null> {
    const row = await this.db<AccountRow>('accounts').where({ id }).first();
    return row ? toAccount(row) : null;
  }

  async list(filter: AccountFilter = {}): Promise<{ accounts: Account[]; total: number }> {
    const { items, total } = await this.listWithLockout(filter, 0);
    return { accounts: items.map((item) => item.account), total };
  }

  /**
   * The one account-list query (API, console, CLI): a page of accounts ordered
   * by name key, each with its name's lockout counter (counters are keyed by
   * the name key, and unknown names have them too, hence a left join).
   * `locked` keeps only names whose lock runs past `now` (true) or the others (false);
   * whether that is a lock in force is the regulator's to say (src/policy/regulator.ts).
   */
  async listWithLockout(filter: AccountListFilter, now: number): Promise<{ items: ListedAccount[]; total: number }> {
    // The counters' columns renamed, so "username_key" below names the account's only.
    const counters = this.db('lockout_state').select({ lock_key: 'username_key', lockout_failures: 'failure_count', lockout_until: 'locked_until' }).as('l');
    const query = this.db<AccountRow>('accounts').leftJoin(counters, 'l.lock_key', 'accounts.username_key');
    if (filter.role) query.where('role', filter.role);
    if (filter.source) query.where('source', filter.source);
    if (filter.enabled !== undefined) query.where('enabled', filter.enabled);
    if (filter.locked === true) query.where('l.lockout_until', '>', now);
    if (filter.locked === false) query.where((q) => q.whereNull('l.lockout_until').orWhere('l.lockout_until', '<=', now));
    // An explicit ESCAPE: SQLite and SQL Server have no default LIKE escape, and SQL Server also treats [ as special.
    if (filter.search) query.whereRaw("username_key LIKE ? ESCAPE '\\'", [`%${usernameKey(filter.search).replace(/[\\%_[]/g, (c) => `\\${c}`)}%`]);
    const countRow = await query.clone().count<{ n: number | string }[]>({ n: '*' });
    const rows = (await query
      .select('accounts.*', 'l.lockout_failures', 'l.lockout_until')
      .orderBy('username_key')
      .offset(filter.offset ?? 0)
      .limit(filter.limit ?? 50)) as ListedRow[];
    return {
      total: Number(countRow[0]?.n ?? 0),
      items: rows.map((row) => ({ account: toAccount(row), lockout: { failureCount: Number(row.lockout_failures ?? 0), lockedUntil: num(row.lockout_until) } })),
    };
  }

  async countAdministrators(onlyEnabled: boolean): Promise<number> {
    const query = this.db('accounts').where({ role: 'admin' });
    if (onlyEnabled) query.where({ enabled: true });
    const [row] = await query.count<{ n: number | string }[]>({ n: '*' });
    return Number(row?.n ?? 0);
  }

  async countLegacyHashes(): Promise<number> {
    const [row] = await this.db('accounts').whereNotNull('password_hash').whereNot('password_hash', 'like', '$%').count<{ n: number | string }[]>({ n: '*' });
    return Number(row?.n ?? 0);
  }

  async insert(account: NewAccount, now: number): Promise<Account> {
    const [inserted] = await this.db('accounts')
      .insert({
        username: account.username,
        username_key: account.usernameKey,
        display_name: account.displayName ?? null,
        email: account.email ?? null,
        description: account.description ?? null,
        role: account.role,
        enabled: account.enabled ?? true,
        source: account.source,
        external_id: account.externalId ?? null,
        password_hash: account.passwordHash ?? null,
        must_change_password: account.mustChangePassword ?? false,
        password_changed_at: account.passwordHash ? now : null,
        created_at: now,
        updated_at: now,
        version: 1,
      })
      .returning('id');
    const id = typeof inserted === 'object' ? (inserted as { id: number }).id : (inserted as number);
    const created = await this.findById(Number(id));
    if (!created) throw new Error('account vanished after insert');
    return created;
  }

  /**
   * Applies changes if the row still has `expectedVersion` (when given).
   * Returns false when the version no longer matches (optimistic concurrency).
   */
  async update(id: number, changes: AccountChanges, now: number, expectedVersion?: number): Promise<boolean> {
    const set: Record<string, unknown> = { updated_at: now };
    for (const [key, value] of Object.entries(changes)) {
      if (value !== undefined) set[CHANGE_COLUMNS[key as keyof AccountChanges]] = value;
    }
    const query = this.db('accounts').where({ id });
    if (expectedVersion !== undefined) query.where({ version: expectedVersion });
    return affected(await query.update({ ...set, version: this.db.raw('version + 1') })) === 1;
  }

  async setPassword(id: number, passwordHash: string, mustChange: boolean, now: number): Promise<void> {
    await this.db('accounts')
      .where({ id })
      .update({
        password_hash: passwordHash,
        must_change_password: mustChange,
        password_changed_at: now,
        updated_at: now,
        version: this.db.raw('version + 1'),
      });
  }

  /** Marks a password that no longer passes the policy: the next sign-in must change it. */
  async flagMustChangePassword(id: number, now: number): Promise<void> {
    await this.db('accounts').where({ id }).update({ must_change_password: true, updated_at: now, version: this.db.raw('version + 1') });
  }

  /** Upgrades a hash in place (legacy MD5 or old Argon2 parameters) without touching the change date. */
  async replaceHash(id: number, oldHash: string, newHash: string): Promise<void> {
    await this.db('accounts').where({ id, password_hash: oldHash }).update({ password_hash: newHash });
  }

  async recordLogin(id: number, now: number): Promise<void> {
    await this.db('accounts').where({ id }).update({ last_login_at: now });
  }

  async delete(id: number): Promise<boolean> {
    return affected(await this.db('accounts').where({ id }).del()) === 1;
  }

  async passwordHistory(id: number, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const rows = await this.db('password_history').where({ account_id: id }).orderBy('id', 'desc').limit(limit).select('password_hash');
    return rows.map((r: { password_hash: string }) => r.password_hash);
  }

  async addPasswordHistory(id: number, passwordHash: string, now: number, keep: number): Promise<void> {
    await this.db('password_history').insert({ account_id: id, password_hash: passwordHash, created_at: now });
    const stale = await this.db('password_history').where({ account_id: id }).orderBy('id', 'desc').offset(Math.max(keep, 1)).select('id');
    if (stale.length > 0) await this.db('password_history').whereIn('id', stale.map((r: { id: number }) => r.id)).del();
  }

  /**
   * Disables enabled accounts whose last login (or creation, if never used) is
   * before `cutoff`; returns their names. The last enabled administrator is
   * never disabled this way (the service would have nobody left to manage it).
   */
  async disableInactive(cutoff: number, now: number): Promise<string[]> {
    const stale = await this.db<AccountRow>('accounts')
      .where({ enabled: true })
      .andWhere((q) => q.where('last_login_at', '<', cutoff).orWhere((q2) => q2.whereNull('last_login_at').andWhere('created_at', '<', cutoff)))
      .select('id', 'username', 'role');
    const disable = async (db: Knex | Knex.Transaction, id: number) =>
      affected(await db('accounts').where({ id, enabled: true }).update({ enabled: false, updated_at: now, version: db.raw('version + 1') })) === 1;
    const disabled: string[] = [];
    for (const row of stale) {
      const done =
        row.role !== 'admin'
          ? await disable(this.db, row.id)
          : await this.transaction(async (tx, trx) => {
              // Under the roster lock, so two instances cannot each disable "one of two" administrators.
              await tx.lockAdministratorRoster();
              return (await tx.countAdministrators(true)) > 1 && disable(trx, row.id);
            });
      if (done) disabled.push(row.username);
    }
    return disabled;
  }
}
