import { randomInt } from 'node:crypto';
import type { LivePolicySource } from '../config/live-policy';
import type { PasswordPolicyConfig } from '../config/schema';
import type { PasswordHasher } from '../authn/password-hasher';
import { INTERNAL_BACKEND } from '../authn/internal-backend';
import type { Principal } from '../authn/backend';
import { type PasswordContext, PasswordPolicy, describeViolations } from '../policy/password-policy';
import type { BreachedFilterSource } from '../policy/breached-filter-source';
import { CompliantPasswords, stalePasswordCheck } from '../policy/stale-password';
import type { Account, AccountChanges, Role } from './account';
import type { AccountStore, AccountWrites } from './account-store';
import type { AuditLog } from '../storage/audit-log';
import type { LockoutStore } from '../storage/lockout-store';
import { isUniqueViolation } from '../storage/db';
import type { Clock } from '../shared/clock';
import { ConflictError, InputError, NotFoundError, PolicyError } from '../shared/errors';
import { usernameKey, validateNewUsername } from '../shared/username';

export const MAX_PASSWORD_BYTES = 1024;

export interface CreateAccountInput {
  username: string;
  password?: string;
  role?: Role;
  displayName?: string | null;
  email?: string | null;
  description?: string | null;
  enabled?: boolean;
  mustChangePassword?: boolean;
}

/** Who asked for a change, for the audit trail. */
export interface Actor {
  name: string;
  clientIp?: string | null;
}

export const SYSTEM_ACTOR: Actor = { name: 'system' };

/**
 * Account lifecycle and the policies that guard it: administrator limit,
 * last-administrator protection, password rules and history. Used by the
 * CLI, the login flow and the admin API alike.
 */
export class AccountService {
  private readonly compliantPasswords = new CompliantPasswords();

  constructor(
    private readonly accounts: AccountStore,
    private readonly lockouts: LockoutStore,
    private readonly hasher: PasswordHasher,
    private readonly policy: LivePolicySource,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    /** The breached-password filter; absent in tools that never set a password. */
    private readonly breached?: BreachedFilterSource,
  ) {}

  passwordPolicy(): PasswordPolicy {
    return new PasswordPolicy(this.policy.get().password, this.breached?.get() ?? null);
  }

  /** The password rules in force (pages show the minimum length). */
  passwordPolicyConfig(): PasswordPolicyConfig {
    return this.policy.get().password;
  }

  private assertPasswordAcceptable(password: string, context: PasswordContext): void {
    if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
      throw new PolicyError('password_policy', `The password is longer than ${MAX_PASSWORD_BYTES} bytes.`, [
        { rule: 'max_length', message: `must be at most ${MAX_PASSWORD_BYTES} bytes`, limit: MAX_PASSWORD_BYTES, unit: 'bytes' },
      ]);
    }
    const violations = this.passwordPolicy().check(password, context);
    if (violations.length > 0) throw new PolicyError('password_policy', describeViolations(violations), violations);
  }

  async create(input: CreateAccountInput, actor: Actor): Promise<Account> {
    const username = validateNewUsername(input.username);
    const role = input.role ?? 'user';
    if (input.password !== undefined) this.assertPasswordAcceptable(input.password, { username, displayName: input.displayName, email: input.email });
    // Hash before the transaction: holding the roster lock through an Argon2 run would stall other writers.
    const passwordHash = input.password !== undefined ? await this.hasher.hash(input.password) : null;
    const now = this.clock.now();
    const account = await this.accounts.transaction(async (tx) => {
      if (role === 'admin') await this.assertAdministratorSlot(tx);
      let created: Account;
      try {
        created = await tx.insert(
          {
            username,
            usernameKey: usernameKey(username),
            role,
            source: INTERNAL_BACKEND,
            displayName: input.displayName ?? null,
            email: input.email ?? null,
            description: input.description ?? null,
            enabled: input.enabled ?? true,
            passwordHash,
            mustChangePassword: input.mustChangePassword ?? false,
          },
          now,
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError('username_taken', `An account named "${username}" already exists.`);
        throw error;
      }
      if (passwordHash) await tx.addPasswordHistory(created.id, passwordHash, now, this.policy.get().password.historySize);
      return created;
    });
    await this.audit.append({ event: 'account_created', outcome: 'success', username, actor: actor.name, clientIp: actor.clientIp, details: { role } }, now);
    return account;
  }

  private async assertAdministratorSlot(tx: AccountWrites): Promise<void> {
    await tx.lockAdministratorRoster();
    const max = this.policy.get().administrators.maxAdministratorCount;
    if ((await tx.countAdministrators(false)) >= max) {
      throw new ConflictError('administrator_limit', `MaxAdministratorCount is ${max}: there are already ${max} administrators.`);
    }
  }

  private async assertNotLastAdministrator(tx: AccountWrites, account: Account, what: string): Promise<void> {
    await tx.lockAdministratorRoster();
    if ((await tx.countAdministrators(true)) <= 1) {
      throw new ConflictError('last_administrator', `"${account.username}" is the last enabled administrator and cannot be ${what}.`);
    }
  }

  async get(id: number): Promise<Account> {
    const account = await this.accounts.findById(id);
    if (!account) throw new NotFoundError(`No account with id ${id}.`);
    return account;
  }

  async findByUsername(username: string): Promise<Account | null> {
    return this.accounts.findByKey(usernameKey(username));
  }

  async requireByUsername(username: string): Promise<Account> {
    const account = await this.findByUsername(username);
    if (!account) throw new NotFoundError(`No account named "${username}".`);
    return account;
  }

  /** Applies changes; role and enabled changes are checked against the administrator rules atomically. */
  async update(id: number, changes: AccountChanges, actor: Actor, expectedVersion?: number): Promise<Account> {
    const now = this.clock.now();
    await this.accounts.transaction(async (tx) => {
      const current = await tx.findById(id);
      if (!current) throw new NotFoundError(`No account with id ${id}.`);
      const promoting = changes.role === 'admin' && current.role !== 'admin';
      const leavingAdmins = current.role === 'admin' && current.enabled && (changes.role === 'user' || changes.enabled === false);
      if (promoting) await this.assertAdministratorSlot(tx);
      if (leavingAdmins) await this.assertNotLastAdministrator(tx, current, changes.role === 'user' ? 'demoted' : 'disabled');
      if (current.role === 'admin' && !current.enabled && changes.enabled === true) await tx.lockAdministratorRoster();
      if (!(await tx.update(id, changes, now, expectedVersion))) {
        throw new ConflictError('version_mismatch', 'The account was changed by someone else; reload it and try again.');
      }
    });
    const updated = await this.get(id);
    await this.audit.append(
      { event: 'account_updated', outcome: 'success', username: updated.username, actor: actor.name, clientIp: actor.clientIp, details: { changes: Object.keys(changes) } },
      now,
    );
    return updated;
  }

  async delete(id: number, actor: Actor): Promise<void> {
    const now = this.clock.now();
    const account = await this.accounts.transaction(async (tx) => {
      const current = await tx.findById(id);
      if (!current) throw new NotFoundError(`No account with id ${id}.`);
      if (current.role === 'admin' && current.enabled) await this.assertNotLastAdministrator(tx, current, 'deleted');
      await tx.delete(id);
      return current;
    });
    await this.lockouts.reset(account.usernameKey);
    await this.audit.append({ event: 'account_deleted', outcome: 'success', username: account.username, actor: actor.name, clientIp: actor.clientIp }, now);
  }

  /**
   * Sets a new password. `enforcePolicy` is false only for administrator
   * resets that are followed by a forced change. History blocks reuse.
   */
  async setPassword(account: Account, password: string, options: { mustChange: boolean; actor: Actor; enforcePolicy?: boolean }): Promise<void> {
    if (account.source !== INTERNAL_BACKEND) {
      throw new PolicyError('directory_password', `"${account.username}" signs in through ${account.source}; change the password with that directory's own tools.`);
    }
    if (options.enforcePolicy !== false) this.assertPasswordAcceptable(password, account);
    const historySize = this.policy.get().password.historySize;
    const previous = [...(account.passwordHash ? [account.passwordHash] : []), ...(await this.accounts.passwordHistory(account.id, historySize))];
    for (const hash of new Set(previous)) {
      if (await this.hasher.verify(hash, password)) {
        throw new PolicyError('password_policy', `The password must not be one of the last ${Math.max(historySize, 1)} passwords.`, [
          { rule: 'reused', message: `must not be one of the last ${Math.max(historySize, 1)} passwords`, limit: Math.max(historySize, 1) },
        ]);
      }
    }
    const hash = await this.hasher.hash(password);
    const now = this.clock.now();
    await this.accounts.transaction(async (tx) => {
      await tx.setPassword(account.id, hash, options.mustChange, now);
      await tx.addPasswordHistory(account.id, hash, now, historySize);
    });
    await this.audit.append(
      { event: 'password_changed', outcome: 'success', username: account.username, actor: options.actor.name, clientIp: options.actor.clientIp, details: { forcedChangeNext: options.mustChange } },
      now,
    );
  }

  /**
   * At sign-in with the clear password: an internal account whose password is
   * breached or breaks today's policy must change it before any ticket is
   * issued (NIST SP 800-63B 5.1.1.2). Returns the account as it now stands.
   */
  async flagStalePassword(account: Account, password: string, actor: Actor & { userAgent?: string | null; channel?: string }): Promise<Account> {
    const policyKey = JSON.stringify([this.policy.get().password, this.breached?.get()?.header.bodySha256 ?? null]);
    const rules = stalePasswordCheck(() => this.passwordPolicy(), account, password, { compliant: this.compliantPasswords, policyKey });
    if (rules.length === 0) return account;
    const now = this.clock.now();
    await this.accounts.flagMustChangePassword(account.id, now);
    await this.audit.append(
      { event: 'password_policy_stale', outcome: 'info', username: account.username, clientIp: actor.clientIp, userAgent: actor.userAgent ?? null, details: { rules, channel: actor.channel } },
      now,
    );
    return (await this.accounts.findById(account.id)) ?? { ...account, mustChangePassword: true };
  }

  async unlock(username: string, actor: Actor): Promise<void> {
    await this.lockouts.reset(usernameKey(username));
    await this.audit.append({ event: 'account_unlocked', outcome: 'success', username, actor: actor.name, clientIp: actor.clientIp }, this.clock.now());
  }

  /**
   * Creates the bootstrap administrator when no administrator exists. Returns
   * the one-time password (to be shown once, never logged), or null.
   */
  async ensureBootstrapAdministrator(): Promise<{ username: string; password: string } | null> {
    if ((await this.accounts.countAdministrators(false)) > 0) return null;
    const username = this.policy.get().accounts.bootstrapAdminUsername;
    const password = generateOneTimePassword();
    try {
      await this.create({ username, password, role: 'admin', mustChangePassword: true, description: 'Bootstrap administrator' }, SYSTEM_ACTOR);
    } catch (error) {
      // Another instance created it, or an account with that name exists but is not an admin.
      if (error instanceof ConflictError) return null;
      throw error;
    }
    return { username, password };
  }

  /** Enabled administrators who have never signed in (their password may be lost: the start banner says how to set one). */
  async administratorsNeverSignedIn(): Promise<string[]> {
    const { accounts } = await this.accounts.list({ role: 'admin', enabled: true, limit: 100 });
    return accounts.filter((a) => a.lastLoginAt === null).map((a) => a.username);
  }

  /**
   * The local record for a directory user: created on first login (no
   * password), refreshed afterwards. A directory-granted admin role is applied
   * only while an administrator slot is free.
   */
  async provisionDirectoryAccount(principal: Principal): Promise<Account> {
    const key = usernameKey(principal.username);
    const now = this.clock.now();
    const existing = await this.accounts.findByKey(key);
    const wantedRole = principal.directoryRole ?? 'user';
    if (!existing) {
      // A directory may hold names that could pass for someone else here: refused like any new name.
      const username = validateNewUsername(principal.username);
      try {
        const created = await this.accounts.transaction(async (tx) => {
          let role: Role = 'user';
          if (wantedRole === 'admin') role = (await this.tryAdministratorSlot(tx)) ? 'admin' : 'user';
          return tx.insert(
            {
              username,
              usernameKey: key,
              role,
              source: principal.source,
              externalId: principal.externalId ?? null,
              displayName: principal.displayName ?? null,
              email: principal.email ?? null,
            },
            now,
          );
        });
        await this.audit.append({ event: 'account_provisioned', outcome: 'success', username: created.username, backend: principal.source, details: { role: created.role } }, now);
        if (created.role !== wantedRole) await this.auditRoleDenied(created.username, principal.source, now);
        return created;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        return (await this.accounts.findByKey(key)) as Account;
      }
    }
    const changes: AccountChanges = {};
    if (principal.displayName !== undefined && principal.displayName !== existing.displayName) changes.displayName = principal.displayName;
    if (principal.email !== undefined && principal.email !== existing.email) changes.email = principal.email;
    if (principal.externalId !== undefined && principal.externalId !== existing.externalId) changes.externalId = principal.externalId;
    if (principal.directoryRole !== undefined && principal.directoryRole !== existing.role) {
      await this.accounts.transaction(async (tx) => {
        if (principal.directoryRole === 'admin') {
          if (await this.tryAdministratorSlot(tx)) await tx.update(existing.id, { ...changes, role: 'admin' }, now);
          else await this.auditRoleDenied(existing.username, principal.source, now);
        } else if (!(existing.enabled && (await this.isLastAdministrator(tx)))) {
          await tx.update(existing.id, { ...changes, role: 'user' }, now);
        }
      });
    } else if (Object.keys(changes).length > 0) {
      await this.accounts.update(existing.id, changes, now);
    }
    return (await this.accounts.findById(existing.id)) as Account;
  }

  private async tryAdministratorSlot(tx: AccountWrites): Promise<boolean> {
    await tx.lockAdministratorRoster();
    return (await tx.countAdministrators(false)) < this.policy.get().administrators.maxAdministratorCount;
  }

  private async isLastAdministrator(tx: AccountWrites): Promise<boolean> {
    await tx.lockAdministratorRoster();
    return (await tx.countAdministrators(true)) <= 1;
  }

  private async auditRoleDenied(username: string, backend: string, now: number): Promise<void> {
    await this.audit.append(
      { event: 'role_denied', outcome: 'failure', username, backend, details: { role: 'admin', reason: 'MaxAdministratorCount reached' } },
      now,
    );
  }

  /** Disables accounts unused for InactiveAccountDisableDays; returns how many. */
  async disableInactiveAccounts(): Promise<number> {
    const days = this.policy.get().accounts.inactiveAccountDisableDays;
    if (days <= 0) return 0;
    const now = this.clock.now();
    const names = await this.accounts.disableInactive(now - days * 86_400_000, now);
    await this.audit.appendMany(
      names.map((username) => ({ event: 'account_disabled_inactive', outcome: 'info', username, actor: 'system', details: { inactiveDays: days } })),
      now,
    );
    return names.length;
  }
}

/** A random password that satisfies the default policy: 20 characters from a 56-symbol alphabet (~116 bits). */
export function generateOneTimePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  let out = '';
  for (let i = 0; i < 18; i++) out += alphabet[randomInt(alphabet.length)];
  return `${out}-${randomInt(10)}`;
}

/** The size check every front door applies before a password goes anywhere (a client error, not a login failure). */
export function assertPasswordSize(password: string): void {
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) throw new InputError(`The password is longer than ${MAX_PASSWORD_BYTES} bytes.`);
}
