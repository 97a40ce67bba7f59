import type { ApiToken, ApiTokenStore } from '../../src/admin/api-tokens';
import { type StoreFactory, freshStores } from './store-database';

/** What an API token store must offer (src/admin/api-tokens.ts; the knex one is src/storage/api-token-store.ts). */
export type ApiTokenStoreContract = ApiTokenStore;

/** The accounts the contract's tokens belong to: the factory's database must hold them. */
export const TOKEN_OWNERS = [
  { id: 7, username: 'alice' },
  { id: 8, username: 'bob' },
];

const T0 = 1_700_000_000_000;

function token(id: string, fields: Partial<ApiToken> = {}): ApiToken {
  return { id, accountId: 7, username: 'alice', scope: 'full', clientIp: '192.0.2.1', createdAt: T0, expiresAt: T0 + 900_000, ...fields };
}

/** Hashed bearer tokens: live until they expire (or their CAS session ends), visible to every instance, deleted once. */
export function apiTokenStoreContract(name: string, factory: StoreFactory<ApiTokenStoreContract>): void {
  describe(`ApiTokenStore contract: ${name}`, () => {
    const stores = freshStores(factory);

    it('finds a stored token by its hash and by its id, from another instance too; nothing for an unknown one', async () => {
      const { store, other } = stores();
      const alice = token('tok_a', { scope: 'password_change', clientIp: null });
      await store.insert(alice, 'hash-a', null);
      expect(await other.findLive({ tokenHash: 'hash-a' }, T0)).toEqual(alice);
      expect(await other.findLive({ id: 'tok_a' }, T0)).toEqual(alice);
      expect(await store.findLive({ tokenHash: 'hash-b' }, T0)).toBeNull();
      expect(await store.findLive({ id: 'tok_b' }, T0)).toBeNull();
    });

    it('stops finding, listing and counting a token at its expiry; deleteExpired removes only expired ones', async () => {
      const { store } = stores();
      await store.insert(token('tok_short', { expiresAt: T0 + 10 }), 'h1', null);
      await store.insert(token('tok_long'), 'h2', null);
      expect(await store.countLive(T0 + 9)).toBe(2);
      expect(await store.findLive({ tokenHash: 'h1' }, T0 + 10)).toBeNull();
      expect(await store.countLive(T0 + 10)).toBe(1);
      expect((await store.listLive({}, T0 + 10)).tokens.map((t) => t.id)).toEqual(['tok_long']);
      expect(await store.deleteExpired(T0 + 10)).toBe(1);
      expect((await store.listForAccount(7)).map((t) => t.id)).toEqual(['tok_long']);
    });

    it('does not find a token whose CAS session (TGT) is gone', async () => {
      const { store } = stores();
      await store.insert(token('tok_sso'), 'h-sso', 'TGT-key-that-does-not-exist');
      expect(await store.findLive({ tokenHash: 'h-sso' }, T0)).toBeNull();
      expect(await store.countLive(T0)).toBe(0);
      // Revocation of an account's tokens still reaches it.
      expect((await store.listForAccount(7)).map((t) => t.id)).toEqual(['tok_sso']);
    });

    it('lists live tokens newest first, by username, paged, with the total', async () => {
      const { store } = stores();
      await store.insert(token('tok_1', { createdAt: T0 + 1 }), 'h1', null);
      await store.insert(token('tok_2', { createdAt: T0 + 2 }), 'h2', null);
      await store.insert(token('tok_3', { createdAt: T0 + 3, accountId: 8, username: 'bob' }), 'h3', null);
      expect((await store.listLive({}, T0)).tokens.map((t) => t.id)).toEqual(['tok_3', 'tok_2', 'tok_1']);
      expect(await store.listLive({ username: 'alice', offset: 1, limit: 1 }, T0)).toEqual({ tokens: [token('tok_1', { createdAt: T0 + 1 })], total: 2 });
    });

    it("lists an account's tokens, but the one spared", async () => {
      const { store } = stores();
      await store.insert(token('tok_1'), 'h1', null);
      await store.insert(token('tok_2'), 'h2', null);
      await store.insert(token('tok_3', { accountId: 8, username: 'bob' }), 'h3', null);
      expect((await store.listForAccount(7, 'tok_2')).map((t) => t.id)).toEqual(['tok_1']);
      expect((await store.listForAccount(7)).map((t) => t.id).sort()).toEqual(['tok_1', 'tok_2']);
    });

    it('deletes a token once: the second delete, from any instance, reports it gone', async () => {
      const { store, other } = stores();
      await store.insert(token('tok_a'), 'hash-a', null);
      expect(await Promise.all([store.delete('tok_a'), other.delete('tok_a')])).toEqual(expect.arrayContaining([true, false]));
      expect(await other.findLive({ id: 'tok_a' }, T0)).toBeNull();
    });
  });
}
