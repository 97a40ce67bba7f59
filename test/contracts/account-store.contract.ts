import type { Account, NewAccount } from '../../src/accounts/account';
import { usernameKey } from '../../src/shared/username';
import type { AccountRepository } from '../../src/storage/accounts-repo';
import { isUniqueViolation } from '../../src/storage/db';
import type { MfaStore } from '../../src/storage/mfa-store';
import type { WebAuthnStore } from '../../src/storage/webauthn-store';
import type { LockoutStoreContract } from './lockout-store.contract';
import { type StoreFactory, freshStores } from './store-database';

/** What an account store must offer (src/storage/accounts-repo.ts): every public method. */
export type AccountStoreContract = Pick<
  AccountRepository,
  | 'transaction'
  | 'lockAdministratorRoster'
  | 'findByKey'
  | 'findByKeyWithFactors'
  | 'findById'
  | 'list'
  | 'listWithLockout'
  | 'countAdministrators'
  | 'countLegacyHashes'
  | 'insert'
  | 'update'
  | 'setPassword'
  | 'flagMustChangePassword'
  | 'replaceHash'
  | 'recordLogin'
  | 'delete'
  | 'passwordHistory'
  | 'addPasswordHistory'
  | 'disableInactive'
>;

/**
 * The account store and, on the same database, the neighbours whose rows its
 * reads join (a name's lockout counter, an account's second factors): the
 * contract writes those rows through them.
 */
export interface AccountStoreFixture {
  accounts: AccountStoreContract;
  lockout: Pick<LockoutStoreContract, 'claim'>;
  mfa: Pick<MfaStore, 'addTotp'>;
  webauthn: Pick<WebAuthnStore, 'addCredential'>;
}

const T0 = 1_700_000_000_000;
const LOCK_MS = 60_000;

function newAccount(username: string, fields: Partial<NewAccount> = {}): NewAccount {
  return { username, usernameKey: usernameKey(username), role: 'user', source: 'internal', ...fields };
}

/** Accounts: found by name key and id, changed under optimistic versions, listed with their lock state, kept in step across instances. */
export function accountStoreContract(name: string, factory: StoreFactory<AccountStoreFixture>): void {
  describe(`AccountStore contract: ${name}`, () => {
    const stores = freshStores(factory);
    const accounts = () => stores().store.accounts;
    const insert = (username: string, fields: Partial<NewAccount> = {}, now = T0) => accounts().insert(newAccount(username, fields), now);
    const names = (list: { account: Account }[]) => list.map((item) => item.account.username);

    describeReads(stores, insert);
    describeWrites(stores, insert);
    describeLists(stores, insert, names);
    describeTransactions(stores, insert);
  });
}

type Stores = () => { store: AccountStoreFixture; other: AccountStoreFixture };
type Insert = (username: string, fields?: Partial<NewAccount>, now?: number) => Promise<Account>;

function describeReads(stores: Stores, insert: Insert): void {
  it('inserts an account with its defaults, found by name key and id, from another instance too', async () => {
    const alice = await insert('Alice');
    expect(alice).toEqual({
      id: expect.any(Number),
      username: 'Alice',
      usernameKey: 'alice',
      displayName: null,
      email: null,
      description: null,
      role: 'user',
      enabled: true,
      source: 'internal',
      externalId: null,
      passwordHash: null,
      mustChangePassword: false,
      passwordChangedAt: null,
      lastLoginAt: null,
      createdAt: T0,
      updatedAt: T0,
      version: 1,
    });
    expect(await stores().other.accounts.findByKey('alice')).toEqual(alice);
    expect(await stores().other.accounts.findById(alice.id)).toEqual(alice);
    expect(await stores().store.accounts.findByKey('Alice')).toBeNull();
    expect(await stores().store.accounts.findByKey('bob')).toBeNull();
    expect(await stores().store.accounts.findById(alice.id + 1000)).toBeNull();
  });

  it('stores every field given at insert; a password hash dates the password', async () => {
    const fields: Partial<NewAccount> = {
      displayName: 'Bob B.',
      email: 'bob@example.org',
      description: 'the builder',
      role: 'admin',
      enabled: false,
      source: 'ldap',
      externalId: 'uid=bob,ou=people',
      passwordHash: '$argon2id$bob',
      mustChangePassword: true,
    };
    const bob = await insert('bob', fields, T0 + 5);
    expect(bob).toMatchObject({ ...fields, passwordChangedAt: T0 + 5, createdAt: T0 + 5, updatedAt: T0 + 5, version: 1 });
    expect(await stores().store.accounts.findById(bob.id)).toEqual(bob);
  });

  it('refuses a second account with the same name key as a unique violation', async () => {
    await insert('Carol');
    const error = await stores()
      .other.accounts.insert(newAccount('CAROL'), T0)
      .then(() => null, (e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    expect((await stores().store.accounts.list()).total).toBe(1);
  });

  it('finds an account with the kinds of second factor it enrolled, and nothing of another account', async () => {
    const { store } = stores();
    const alice = await insert('alice');
    const bob = await insert('bob');
    const carol = await insert('carol');
    expect(await store.accounts.findByKeyWithFactors('alice')).toEqual({ account: alice, factors: [] });
    await store.mfa.addTotp(alice.id, 'phone', 'sealed', 1, ['code-1', 'code-2'], T0);
    await store.webauthn.addCredential({ accountId: bob.id, name: 'key', credentialId: 'cred-bob', publicKey: 'pk', signCount: 0, transports: [] }, [], T0);
    expect(await store.accounts.findByKeyWithFactors('alice')).toEqual({ account: alice, factors: ['totp', 'recovery'] });
    expect(await store.accounts.findByKeyWithFactors('bob')).toEqual({ account: bob, factors: ['webauthn'] });
    expect(await store.accounts.findByKeyWithFactors('carol')).toEqual({ account: carol, factors: [] });
    expect(await store.accounts.findByKeyWithFactors('dave')).toBeNull();
  });

  it('counts administrators, all or only the enabled ones', async () => {
    const { store } = stores();
    expect(await store.accounts.countAdministrators(false)).toBe(0);
    await insert('root', { role: 'admin' });
    await insert('old-root', { role: 'admin', enabled: false });
    await insert('alice');
    expect(await store.accounts.countAdministrators(false)).toBe(2);
    expect(await store.accounts.countAdministrators(true)).toBe(1);
  });

  it('counts password hashes still in a legacy format (set, not starting with $)', async () => {
    const { store } = stores();
    await insert('argon', { passwordHash: '$argon2id$v=19$x' });
    await insert('md5', { passwordHash: '5f4dcc3b5aa765d61d8327deb882cf99' });
    await insert('directory');
    expect(await store.accounts.countLegacyHashes()).toBe(1);
    const md5 = (await store.accounts.findByKey('md5')) as Account;
    await store.accounts.replaceHash(md5.id, md5.passwordHash as string, '$argon2id$new');
    expect(await store.accounts.countLegacyHashes()).toBe(0);
  });
}

function describeWrites(stores: Stores, insert: Insert): void {
  it('updates the given fields, bumps the version and the change date, and skips undefined ones', async () => {
    const { store, other } = stores();
    const alice = await insert('alice', { email: 'a@example.org', displayName: 'Alice' });
    expect(await store.accounts.update(alice.id, { email: 'alice@example.org', displayName: undefined, role: 'admin', enabled: false }, T0 + 10)).toBe(true);
    expect(await other.accounts.findById(alice.id)).toEqual({ ...alice, email: 'alice@example.org', role: 'admin', enabled: false, updatedAt: T0 + 10, version: 2 });
  });

  it('applies an update only at the expected version; a stale version or an unknown id changes nothing', async () => {
    const { store, other } = stores();
    const alice = await insert('alice');
    expect(await store.accounts.update(alice.id, { description: 'first' }, T0 + 1, 1)).toBe(true);
    expect(await other.accounts.update(alice.id, { description: 'second' }, T0 + 2, 1)).toBe(false);
    expect(await store.accounts.update(alice.id + 1000, { description: 'nobody' }, T0 + 3)).toBe(false);
    expect(await store.accounts.findById(alice.id)).toMatchObject({ description: 'first', updatedAt: T0 + 1, version: 2 });
    expect(await other.accounts.update(alice.id, { description: 'second' }, T0 + 2, 2)).toBe(true);
    expect(await store.accounts.findById(alice.id)).toMatchObject({ description: 'second', version: 3 });
  });

  it('sets a password with its change date and must-change flag, and bumps the version', async () => {
    const { store } = stores();
    const alice = await insert('alice', { passwordHash: '$old', mustChangePassword: true });
    await store.accounts.setPassword(alice.id, '$new', false, T0 + 7);
    expect(await store.accounts.findById(alice.id)).toEqual({ ...alice, passwordHash: '$new', mustChangePassword: false, passwordChangedAt: T0 + 7, updatedAt: T0 + 7, version: 2 });
    await store.accounts.setPassword(alice.id, '$reset', true, T0 + 8);
    expect(await store.accounts.findById(alice.id)).toMatchObject({ passwordHash: '$reset', mustChangePassword: true, passwordChangedAt: T0 + 8, version: 3 });
  });

  it('flags a password to be changed at the next sign-in, bumping the version', async () => {
    const { store } = stores();
    const alice = await insert('alice', { passwordHash: '$hash' });
    await store.accounts.flagMustChangePassword(alice.id, T0 + 3);
    expect(await store.accounts.findById(alice.id)).toEqual({ ...alice, mustChangePassword: true, updatedAt: T0 + 3, version: 2 });
  });

  it('replaces a hash only while it is still the old one, leaving dates and version alone', async () => {
    const { store, other } = stores();
    const alice = await insert('alice', { passwordHash: 'legacy' });
    await store.accounts.replaceHash(alice.id, 'not-the-hash', '$wrong');
    expect(await store.accounts.findById(alice.id)).toEqual(alice);
    await store.accounts.replaceHash(alice.id, 'legacy', '$argon2id$upgraded');
    expect(await other.accounts.findById(alice.id)).toEqual({ ...alice, passwordHash: '$argon2id$upgraded' });
  });

  it('records a sign-in time without bumping the version (an edit in progress stays valid)', async () => {
    const { store } = stores();
    const alice = await insert('alice');
    await store.accounts.recordLogin(alice.id, T0 + 9);
    expect(await store.accounts.findById(alice.id)).toEqual({ ...alice, lastLoginAt: T0 + 9 });
    expect(await store.accounts.update(alice.id, { email: 'a@example.org' }, T0 + 10, alice.version)).toBe(true);
  });

  it('deletes an account once, with its password history', async () => {
    const { store, other } = stores();
    const alice = await insert('alice');
    const bob = await insert('bob');
    await store.accounts.addPasswordHistory(alice.id, '$h1', T0, 5);
    expect(await store.accounts.delete(alice.id)).toBe(true);
    expect(await other.accounts.delete(alice.id)).toBe(false);
    expect(await other.accounts.findById(alice.id)).toBeNull();
    expect(await other.accounts.findByKey('alice')).toBeNull();
    expect(await store.accounts.passwordHistory(alice.id, 5)).toEqual([]);
    expect(await store.accounts.findById(bob.id)).toEqual(bob);
  });

  it('keeps the newest password hashes per account, newest first, up to the limit asked', async () => {
    const { store } = stores();
    const alice = await insert('alice');
    const bob = await insert('bob');
    for (const hash of ['$1', '$2', '$3', '$4']) await store.accounts.addPasswordHistory(alice.id, hash, T0, 3);
    await store.accounts.addPasswordHistory(bob.id, '$bob', T0, 3);
    expect(await store.accounts.passwordHistory(alice.id, 10)).toEqual(['$4', '$3', '$2']);
    expect(await store.accounts.passwordHistory(alice.id, 2)).toEqual(['$4', '$3']);
    expect(await store.accounts.passwordHistory(alice.id, 0)).toEqual([]);
    expect(await store.accounts.passwordHistory(bob.id, 10)).toEqual(['$bob']);
    // Keeping none still keeps the hash just set.
    await store.accounts.addPasswordHistory(alice.id, '$5', T0, 0);
    expect(await store.accounts.passwordHistory(alice.id, 10)).toEqual(['$5']);
  });

  it('disables accounts unused since the cutoff, never the last enabled administrator, and names them', async () => {
    const { store } = stores();
    const cutoff = T0 + 50;
    const idle = await insert('idle');
    const active = await insert('active');
    await store.accounts.recordLogin(active.id, T0 + 60);
    const longGone = await insert('long-gone');
    await store.accounts.recordLogin(longGone.id, T0 + 10);
    await insert('young', {}, T0 + 70);
    await insert('already-off', { enabled: false });
    await insert('root-1', { role: 'admin' });
    await insert('root-2', { role: 'admin' });
    const disabled = await store.accounts.disableInactive(cutoff, T0 + 100);
    expect(disabled.filter((n) => !n.startsWith('root')).sort()).toEqual(['idle', 'long-gone']);
    expect(disabled.filter((n) => n.startsWith('root'))).toHaveLength(1);
    expect(await store.accounts.countAdministrators(true)).toBe(1);
    expect(await store.accounts.findById(idle.id)).toEqual({ ...idle, enabled: false, updatedAt: T0 + 100, version: 2 });
    expect(await store.accounts.findByKey('active')).toMatchObject({ enabled: true, version: 1 });
    expect(await store.accounts.findByKey('young')).toMatchObject({ enabled: true });
    // The last administrator stays, however often it runs.
    expect(await store.accounts.disableInactive(cutoff, T0 + 200)).toEqual([]);
  });
}

function describeLists(stores: Stores, insert: Insert, names: (list: { account: Account }[]) => string[]): void {
  const seed = async () => {
    await insert('carol', { role: 'admin' });
    await insert('alice');
    await insert('bob', { source: 'ldap', enabled: false });
    await insert('dave', { source: 'ldap' });
  };

  it('lists accounts ordered by name key, paged, with the total of the whole filter', async () => {
    await seed();
    const { store } = stores();
    const all = await store.accounts.list();
    expect({ names: all.accounts.map((a) => a.username), total: all.total }).toEqual({ names: ['alice', 'bob', 'carol', 'dave'], total: 4 });
    expect(all.accounts[0]).toEqual(await store.accounts.findByKey('alice'));
    const page = await store.accounts.list({ offset: 1, limit: 2 });
    expect({ names: page.accounts.map((a) => a.username), total: page.total }).toEqual({ names: ['bob', 'carol'], total: 4 });
    expect((await store.accounts.list({ offset: 4 })).accounts).toEqual([]);
  });

  it('filters by role, source and enabled, together', async () => {
    await seed();
    const { store } = stores();
    const list = async (filter: Parameters<AccountStoreContract['list']>[0]) => (await store.accounts.list(filter)).accounts.map((a) => a.username);
    expect(await list({ role: 'admin' })).toEqual(['carol']);
    expect(await list({ role: 'user' })).toEqual(['alice', 'bob', 'dave']);
    expect(await list({ source: 'ldap' })).toEqual(['bob', 'dave']);
    expect(await list({ enabled: false })).toEqual(['bob']);
    expect(await list({ source: 'ldap', enabled: true })).toEqual(['dave']);
    expect(await store.accounts.list({ source: 'ldap', enabled: true, limit: 0 })).toEqual({ accounts: [], total: 1 });
  });

  it('searches the name key for a substring, normalised as names are (NFKC, lower case), with LIKE wildcards taken literally', async () => {
    const { store } = stores();
    await insert('Ｂｅｎ');
    await insert('benedikt');
    await insert('a_b');
    await insert('axb');
    await insert('100%');
    const search = async (text: string) => (await store.accounts.list({ search: text })).accounts.map((a) => a.username);
    expect(await search('ＢＥＮ')).toEqual(['Ｂｅｎ', 'benedikt']);
    expect(await search('EDI')).toEqual(['benedikt']);
    expect(await search('_')).toEqual(['a_b']);
    expect(await search('0%')).toEqual(['100%']);
    expect(await search('%b')).toEqual([]);
    expect((await store.accounts.list({ search: 'b', limit: 1 })).total).toBe(4);
  });

  it("lists each account with its name's lockout counter; locked keeps names whose lock runs past now", async () => {
    await seed();
    const { store } = stores();
    await store.lockout.claim('bob', T0, 1, LOCK_MS);
    await store.lockout.claim('alice', T0, 3, LOCK_MS);
    // A counter of a name with no account lists nothing.
    await store.lockout.claim('mallory', T0, 1, LOCK_MS);
    const all = await store.accounts.listWithLockout({}, T0);
    expect(all.total).toBe(4);
    expect(all.items.map((item) => [item.account.username, item.lockout])).toEqual([
      ['alice', { failureCount: 1, lockedUntil: null }],
      ['bob', { failureCount: 1, lockedUntil: T0 + LOCK_MS }],
      ['carol', { failureCount: 0, lockedUntil: null }],
      ['dave', { failureCount: 0, lockedUntil: null }],
    ]);
    expect(names((await store.accounts.listWithLockout({ locked: true }, T0 + LOCK_MS - 1)).items)).toEqual(['bob']);
    expect(names((await store.accounts.listWithLockout({ locked: false }, T0 + LOCK_MS - 1)).items)).toEqual(['alice', 'carol', 'dave']);
    expect(await store.accounts.listWithLockout({ locked: true }, T0 + LOCK_MS)).toEqual({ items: [], total: 0 });
    expect((await store.accounts.listWithLockout({ locked: false }, T0 + LOCK_MS)).total).toBe(4);
    const lockedLdap = await store.accounts.listWithLockout({ locked: true, source: 'ldap', search: 'BO' }, T0);
    expect({ names: names(lockedLdap.items), total: lockedLdap.total }).toEqual({ names: ['bob'], total: 1 });
  });
}

function describeTransactions(stores: Stores, insert: Insert): void {
  it('commits a transaction whole: its result returned, its writes seen by another instance', async () => {
    const { store, other } = stores();
    const result = await store.accounts.transaction(async (tx) => {
      const alice = await tx.insert(newAccount('alice'), T0);
      await tx.setPassword(alice.id, '$h', false, T0);
      return alice.id;
    });
    expect(await other.accounts.findById(result)).toMatchObject({ username: 'alice', passwordHash: '$h' });
  });

  it('rolls a transaction back whole when its work throws: nothing of it remains', async () => {
    const { store, other } = stores();
    const bob = await insert('bob');
    const failure = new Error('changed my mind');
    await expect(
      store.accounts.transaction(async (tx) => {
        await tx.insert(newAccount('alice'), T0);
        await tx.update(bob.id, { email: 'bob@example.org' }, T0 + 1);
        await tx.addPasswordHistory(bob.id, '$h', T0, 5);
        expect(await tx.findByKey('alice')).not.toBeNull();
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await other.accounts.findByKey('alice')).toBeNull();
    expect(await other.accounts.findById(bob.id)).toEqual(bob);
    expect(await other.accounts.passwordHistory(bob.id, 5)).toEqual([]);
  });

  it('serializes count-then-write administrator changes under the roster lock: concurrent demotions leave one administrator', async () => {
    const { store } = stores();
    const admins = await Promise.all(['root-1', 'root-2', 'root-3', 'root-4'].map((username) => insert(username, { role: 'admin' })));
    // Open the pool's connections first, so the transactions below start together rather than one per new connection.
    await Promise.all(admins.map(() => store.accounts.countAdministrators(true)));
    // Each transaction demotes "its" administrator only if another remains: without the lock all four see four.
    const demoted = await Promise.all(
      admins.map((admin) =>
        store.accounts.transaction(async (tx) => {
          await tx.lockAdministratorRoster();
          if ((await tx.countAdministrators(true)) <= 1) return false;
          return tx.update(admin.id, { enabled: false }, T0 + 1);
        }),
      ),
    );
    expect(demoted.filter(Boolean)).toHaveLength(3);
    expect(await store.accounts.countAdministrators(true)).toBe(1);
  });
}
