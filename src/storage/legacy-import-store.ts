import type { Knex } from 'knex';
import type { Role } from '../accounts/account';
import { AccountRepository } from './accounts-repo';
import { type AuditEvent, AuditLog } from './audit-log';

/** An account as the legacy import writes it: a legacy password hash whose age counts from the import. */
export interface ImportedAccount {
  username: string;
  usernameKey: string;
  displayName: string | null;
  email: string | null;
  role: Role;
  enabled: boolean;
  source: string;
  passwordHash: string;
}

const INSERT_CHUNK = 100; // 100 rows × 13 columns stays well under SQL Server's 2100 parameters.
const LOOKUP_CHUNK = 500;

/**
 * The legacy import's reads and writes (src/jobs/legacy-import.ts). Every
 * method works on the knex handle it was built with, so `transaction` hands
 * out a store bound to one transaction.
 */
export class KnexLegacyImportStore {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async transaction<T>(work: (store: KnexLegacyImportStore) => Promise<T>): Promise<T> {
    return this.db.transaction((trx) => work(new KnexLegacyImportStore(trx)));
  }

  /** The name keys among these that already have an account. */
  async existingKeys(keys: string[]): Promise<Set<string>> {
    const existing = new Set<string>();
    for (let i = 0; i < keys.length; i += LOOKUP_CHUNK) {
      const rows = await this.db('accounts').whereIn('username_key', keys.slice(i, i + LOOKUP_CHUNK)).select('username_key');
      for (const row of rows) existing.add(row.username_key as string);
    }
    return existing;
  }

  /** Administrators now; `lock` first takes the roster lock (as the account service does) until the transaction ends. */
  async countAdministrators(lock = false): Promise<number> {
    const roster = new AccountRepository(this.db);
    if (lock) await roster.lockAdministratorRoster();
    return roster.countAdministrators(false);
  }

  /** Multi-row inserts: one statement per hundred accounts instead of an insert-and-reread per account. */
  async insertAccounts(accounts: ImportedAccount[], now: number): Promise<void> {
    for (let i = 0; i < accounts.length; i += INSERT_CHUNK) {
      await this.db('accounts').insert(
        accounts.slice(i, i + INSERT_CHUNK).map((account) => ({
          username: account.username,
          username_key: account.usernameKey,
          display_name: account.displayName,
          email: account.email,
          role: account.role,
          enabled: account.enabled,
          source: account.source,
          password_hash: account.passwordHash,
          must_change_password: false,
          password_changed_at: now,
          created_at: now,
          updated_at: now,
          version: 1,
        })),
      );
    }
  }

  async audit(events: AuditEvent[], at: number): Promise<void> {
    await new AuditLog(this.db).appendMany(events, at);
  }
}
