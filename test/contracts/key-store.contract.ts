import type { KeyStore } from '../../src/storage/key-store';
import { type StoreFactory, freshStores } from './store-database';

/**
 * What a server-key store must offer. Typed against the knex class
 * (src/storage/key-store.ts): its one caller is the composition root
 * (services.ts, the form-signing key).
 */
export type KeyStoreContract = Pick<KeyStore, 'getOrCreate'>;

const T0 = 1_700_000_000_000;

/** Server secrets made on first use and shared: every instance signs with the same key. */
export function keyStoreContract(name: string, factory: StoreFactory<KeyStoreContract>): void {
  describe(`KeyStore contract: ${name}`, () => {
    const stores = freshStores(factory);

    it('makes a 32-byte key on first use and gives the same one afterwards, on every instance', async () => {
      const { store, other } = stores();
      const key = await store.getOrCreate('form-signing', T0);
      expect(key).toHaveLength(32);
      expect(await store.getOrCreate('form-signing', T0 + 1)).toEqual(key);
      expect(await other.getOrCreate('form-signing', T0 + 2)).toEqual(key);
    });

    it('keeps keys of different names apart', async () => {
      const { store } = stores();
      const signing = await store.getOrCreate('form-signing', T0);
      expect(await store.getOrCreate('other', T0)).not.toEqual(signing);
    });

    it('gives 10 callers racing from two instances for a new key one and the same key', async () => {
      const { store, other } = stores();
      const keys = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? store : other).getOrCreate('form-signing', T0)));
      expect(new Set(keys.map((k) => k.toString('base64'))).size).toBe(1);
      expect(await store.getOrCreate('form-signing', T0)).toEqual(keys[0]);
    });
  });
}
