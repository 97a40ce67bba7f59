import type { CredentialStore } from '../../src/mfa/webauthn-service';
import { isUniqueViolation } from '../../src/storage/db';
import type { StoredCredential } from '../../src/storage/webauthn-store';
import { ALICE, BOB, raceWins } from './contract-accounts';
import { type StoreFactory, freshStores } from './store-database';

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;

function key(credentialId: string, fields: Partial<Omit<StoredCredential, 'factorId'>> = {}): Omit<StoredCredential, 'factorId'> {
  return { accountId: ALICE, name: 'YubiKey', credentialId, publicKey: `pk-${credentialId}`, signCount: 0, transports: ['usb', 'nfc'], ...fields };
}

/**
 * Security keys and passkeys (WebAuthnService's CredentialStore,
 * src/mfa/webauthn-service.ts; the knex one is src/storage/webauthn-store.ts):
 * one registration per credential ID, signature counters that must grow, and
 * ceremony challenges any instance can finish, each used once.
 */
export function webAuthnStoreContract(name: string, factory: StoreFactory<CredentialStore>): void {
  describe(`WebAuthn CredentialStore contract: ${name}`, () => {
    const stores = freshStores(factory);

    it("stores a key and gives it back by account and by credential ID, from another instance too", async () => {
      const { store, other } = stores();
      expect(await store.hasFactors(ALICE)).toBe(false);
      const factorId = await store.addCredential(key('cred-a', { signCount: 3 }), [], T0);
      await store.addCredential(key('cred-b', { accountId: BOB, transports: [] }), [], T0);
      expect(await other.credentials(ALICE)).toEqual([{ factorId, ...key('cred-a', { signCount: 3 }) }]);
      expect(await other.byCredentialId('cred-a')).toEqual({ factorId, ...key('cred-a', { signCount: 3 }) });
      expect(await other.byCredentialId('cred-b')).toEqual(expect.objectContaining({ accountId: BOB, transports: [] }));
      expect(await other.byCredentialId('cred-c')).toBeNull();
      expect(await other.hasFactors(ALICE)).toBe(true);
    });

    it("lists an account's keys in the order added, and finds a credential ID of any length", async () => {
      const { store } = stores();
      const long = 'L'.repeat(1_000);
      await store.addCredential(key('cred-1', { name: 'first' }), [], T0);
      await store.addCredential(key(long, { name: 'second' }), [], T0);
      expect((await store.credentials(ALICE)).map((c) => c.name)).toEqual(['first', 'second']);
      expect(await store.byCredentialId(long)).toEqual(expect.objectContaining({ name: 'second', credentialId: long }));
      expect(await store.credentials(BOB)).toEqual([]);
    });

    it("registers a credential ID once, whichever account tries again", async () => {
      const { store, other } = stores();
      await store.addCredential(key('cred-a'), [], T0);
      const refused = await other.addCredential(key('cred-a', { accountId: BOB }), [], T0).then(
        () => null,
        (error: unknown) => error,
      );
      // Checked by its code, not with rejects.toThrow(): better-sqlite3's native module builds its errors from the
      // Error of the first jest realm that loaded it, so in a later test file of the same worker they are no Error here.
      expect(isUniqueViolation(refused)).toBe(true);
      expect(await other.credentials(BOB)).toEqual([]);
      expect(await other.hasFactors(BOB)).toBe(false);
    });

    it('stores recovery codes with a first key: the account then has factors, though only the key is a credential', async () => {
      const { store } = stores();
      await store.addCredential(key('cred-a', { accountId: BOB }), ['a'.repeat(64), 'b'.repeat(64)], T0);
      expect(await store.hasFactors(BOB)).toBe(true);
      expect((await store.credentials(BOB)).map((c) => c.credentialId)).toEqual(['cred-a']);
    });

    it('records a use only when the signature counter grew, and keeps the new counter', async () => {
      const { store, other } = stores();
      const id = await store.addCredential(key('cred-a', { signCount: 5 }), [], T0);
      expect(await other.recordUse(id, 5, T0 + 1)).toBe(false);
      expect(await other.recordUse(id, 4, T0 + 1)).toBe(false);
      expect(await other.recordUse(id, 0, T0 + 1)).toBe(false);
      expect(await other.recordUse(id, 9, T0 + 2)).toBe(true);
      expect(await store.recordUse(id, 9, T0 + 3)).toBe(false);
      expect((await store.byCredentialId('cred-a'))?.signCount).toBe(9);
      expect(await store.recordUse(id + 1000, 10, T0 + 4)).toBe(false);
    });

    it('lets an authenticator without a counter (always 0) sign every time, until it reports one', async () => {
      const { store } = stores();
      const id = await store.addCredential(key('cred-a'), [], T0);
      expect(await store.recordUse(id, 0, T0 + 1)).toBe(true);
      expect(await store.recordUse(id, 0, T0 + 2)).toBe(true);
      expect(await store.recordUse(id, 1, T0 + 3)).toBe(true);
      expect(await store.recordUse(id, 0, T0 + 4)).toBe(false);
    });

    it('of 20 assertions with one counter racing from two instances, exactly one is recorded', async () => {
      const { store, other } = stores();
      const id = await store.addCredential(key('cred-a', { signCount: 5 }), [], T0);
      expect(await raceWins([store, other], (s) => s.recordUse(id, 6, T0 + 1))).toBe(1);
      expect((await other.byCredentialId('cred-a'))?.signCount).toBe(6);
    });

    it('gives a challenge to the one ceremony it was issued for, once, on any instance', async () => {
      const { store, other } = stores();
      await store.putChallenge('ch-reg', 'register', ALICE, T0 + MINUTE, T0);
      await store.putChallenge('ch-pass', 'passkey', null, T0 + MINUTE, T0);
      expect(await other.takeChallenge('ch-reg', 'register', ALICE, T0 + 1)).toBe(true);
      expect(await store.takeChallenge('ch-reg', 'register', ALICE, T0 + 2)).toBe(false);
      expect(await other.takeChallenge('ch-pass', 'passkey', null, T0 + 1)).toBe(true);
      expect(await other.takeChallenge('ch-unknown', 'passkey', null, T0 + 1)).toBe(false);
    });

    it('refuses a challenge for another ceremony or another account', async () => {
      const { store } = stores();
      await store.putChallenge('ch-1', 'register', ALICE, T0 + MINUTE, T0);
      await store.putChallenge('ch-2', 'authenticate', ALICE, T0 + MINUTE, T0);
      await store.putChallenge('ch-3', 'passkey', null, T0 + MINUTE, T0);
      expect(await store.takeChallenge('ch-1', 'authenticate', ALICE, T0 + 1)).toBe(false);
      expect(await store.takeChallenge('ch-2', 'authenticate', BOB, T0 + 1)).toBe(false);
      expect(await store.takeChallenge('ch-2', 'authenticate', null, T0 + 1)).toBe(false);
      expect(await store.takeChallenge('ch-3', 'passkey', ALICE, T0 + 1)).toBe(false);
    });

    it('refuses a challenge from its expiry on', async () => {
      const { store } = stores();
      await store.putChallenge('ch-late', 'authenticate', ALICE, T0 + MINUTE, T0);
      await store.putChallenge('ch-in-time', 'authenticate', ALICE, T0 + MINUTE, T0);
      expect(await store.takeChallenge('ch-late', 'authenticate', ALICE, T0 + MINUTE)).toBe(false);
      expect(await store.takeChallenge('ch-in-time', 'authenticate', ALICE, T0 + MINUTE - 1)).toBe(true);
    });

    it('of 20 requests racing from two instances to use one challenge, exactly one gets it', async () => {
      const { store, other } = stores();
      await store.putChallenge('ch-race', 'authenticate', ALICE, T0 + MINUTE, T0);
      expect(await raceWins([store, other], (s) => s.takeChallenge('ch-race', 'authenticate', ALICE, T0 + 1))).toBe(1);
    });
  });
}
