import { usernameKey } from '../shared/username';
import type { AccountLookup } from './chain';
import type { AuthenticationBackend, BackendOutcome, PasswordCredential } from './backend';
import type { PasswordHasher } from './password-hasher';

export const INTERNAL_BACKEND = 'internal';

/** What the internal backend reads: the account by name key, and a cheap query to prove the database answers. */
export interface InternalAccounts extends AccountLookup {
  countAdministrators(onlyEnabled: boolean): Promise<number>;
}

/** Accounts whose password hash lives in Portcullis's own database. */
export class InternalBackend implements AuthenticationBackend {
  readonly name = INTERNAL_BACKEND;
  readonly lockout = true;

  constructor(
    private readonly accounts: InternalAccounts,
    private readonly hasher: PasswordHasher,
  ) {}

  claims(): 'yes' {
    return 'yes';
  }

  canonicalUsername(username: string): string {
    return username;
  }

  async authenticate({ username, password }: PasswordCredential): Promise<BackendOutcome> {
    const account = await this.accounts.findByKey(usernameKey(username));
    if (!account || account.source !== INTERNAL_BACKEND || !account.passwordHash) {
      // Same cost as a wrong password, so timing does not reveal which names exist.
      await this.hasher.burn(password);
      return { ok: false, reason: account ? 'bad_credentials' : 'unknown_user' };
    }
    if (!(await this.hasher.verify(account.passwordHash, password))) return { ok: false, reason: 'bad_credentials' };
    const outcome: BackendOutcome = {
      ok: true,
      principal: {
        username: account.username,
        source: INTERNAL_BACKEND,
        displayName: account.displayName ?? undefined,
        email: account.email ?? undefined,
        attributes: {},
      },
    };
    if (this.hasher.needsRehash(account.passwordHash)) {
      outcome.upgradeHash = { from: account.passwordHash, to: await this.hasher.hash(password) };
    }
    return outcome;
  }

  async startupCheck(): Promise<void> {
    await this.accounts.countAdministrators(false);
  }

  async close(): Promise<void> {}
}
