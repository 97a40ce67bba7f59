import type { Account, AccountChanges, AccountFilter, NewAccount } from './account';

/**
 * What the account lifecycle (account-service.ts) needs of account storage;
 * src/storage/accounts-repo.ts implements it. Writes that must see one
 * consistent roster run inside `transaction`, on the store it hands over.
 */
export interface AccountWrites {
  findById(id: number): Promise<Account | null>;
  /** Serializes changes to who is an administrator (count-then-write checks run after it). */
  lockAdministratorRoster(): Promise<void>;
  countAdministrators(onlyEnabled: boolean): Promise<number>;
  insert(account: NewAccount, now: number): Promise<Account>;
  update(id: number, changes: AccountChanges, now: number, expectedVersion?: number): Promise<boolean>;
  setPassword(id: number, passwordHash: string, mustChange: boolean, now: number): Promise<void>;
  addPasswordHistory(id: number, passwordHash: string, now: number, keep: number): Promise<void>;
  delete(id: number): Promise<boolean>;
}

export interface AccountStore extends AccountWrites {
  transaction<T>(work: (tx: AccountWrites) => Promise<T>): Promise<T>;
  findByKey(usernameKey: string): Promise<Account | null>;
  list(filter?: AccountFilter): Promise<{ accounts: Account[]; total: number }>;
  passwordHistory(id: number, limit: number): Promise<string[]>;
  flagMustChangePassword(id: number, now: number): Promise<void>;
  disableInactive(cutoff: number, now: number): Promise<string[]>;
}
