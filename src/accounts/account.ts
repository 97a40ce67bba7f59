/** The account domain: what an account is and its roles (storage maps rows to these; src/storage/accounts-repo.ts). */
export type Role = 'user' | 'admin';
export const ROLES: readonly Role[] = ['user', 'admin'];

export interface Account {
  id: number;
  username: string;
  usernameKey: string;
  displayName: string | null;
  email: string | null;
  description: string | null;
  role: Role;
  enabled: boolean;
  /** 'internal' or the name of the directory backend that vouches for this account. */
  source: string;
  externalId: string | null;
  passwordHash: string | null;
  mustChangePassword: boolean;
  passwordChangedAt: number | null;
  lastLoginAt: number | null;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export type NewAccount = Pick<Account, 'username' | 'usernameKey' | 'role' | 'source'> &
  Partial<Pick<Account, 'displayName' | 'email' | 'description' | 'enabled' | 'externalId' | 'passwordHash' | 'mustChangePassword'>>;

export type AccountChanges = Partial<Pick<Account, 'displayName' | 'email' | 'description' | 'role' | 'enabled' | 'externalId'>>;

export interface AccountFilter {
  role?: Role;
  source?: string;
  enabled?: boolean;
  /** Substring of the name key. */
  search?: string;
  offset?: number;
  limit?: number;
}
