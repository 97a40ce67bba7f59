import type { JobLeases } from '../../src/ops/job-leases';
import { type StoreFactory, freshStores } from './store-database';

/** What a job-lease store must offer (src/ops/job-leases.ts). */
export type JobLeaseStoreContract = Pick<JobLeases, 'tryAcquire' | 'release' | 'holder'>;

const TTL = 30_000;
const T0 = 1_700_000_000_000;

/** One holder per lease at a time, decided by the database whatever the number of instances. */
export function jobLeaseStoreContract(name: string, factory: StoreFactory<JobLeaseStoreContract>): void {
  describe(`JobLeases contract: ${name}`, () => {
    const stores = freshStores(factory);

    it('gives a free lease to the first holder, refuses others until it expires, then hands it over', async () => {
      const { store, other } = stores();
      expect(await store.holder('purge', T0)).toBeNull();
      expect(await store.tryAcquire('purge', 'a', T0, TTL)).toBe(true);
      expect(await other.tryAcquire('purge', 'b', T0 + TTL - 1, TTL)).toBe(false);
      expect(await other.holder('purge', T0 + TTL - 1)).toBe('a');
      expect(await other.tryAcquire('purge', 'b', T0 + TTL, TTL)).toBe(true);
      expect(await store.holder('purge', T0 + TTL)).toBe('b');
    });

    it('lets the holder renew before expiry, pushing the expiry back', async () => {
      const { store, other } = stores();
      await store.tryAcquire('purge', 'a', T0, TTL);
      expect(await store.tryAcquire('purge', 'a', T0 + 10_000, TTL)).toBe(true);
      expect(await other.tryAcquire('purge', 'b', T0 + TTL, TTL)).toBe(false);
      expect(await store.holder('purge', T0 + TTL + 9_999)).toBe('a');
    });

    it('keeps leases of different names apart', async () => {
      const { store } = stores();
      expect(await store.tryAcquire('purge', 'a', T0, TTL)).toBe(true);
      expect(await store.tryAcquire('report', 'b', T0, TTL)).toBe(true);
      expect(await store.holder('report', T0)).toBe('b');
    });

    it('release frees the lease at once, but only when the caller holds it', async () => {
      const { store, other } = stores();
      await store.tryAcquire('purge', 'a', T0, TTL);
      await other.release('purge', 'b');
      expect(await other.tryAcquire('purge', 'b', T0 + 1, TTL)).toBe(false);
      await store.release('purge', 'a');
      expect(await store.holder('purge', T0 + 1)).toBeNull();
      expect(await other.tryAcquire('purge', 'b', T0 + 1, TTL)).toBe(true);
    });

    it('of 20 holders racing from two instances for a new lease, exactly one wins', async () => {
      const { store, other } = stores();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).tryAcquire('purge', `h${i}`, T0, TTL)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.holder('purge', T0)).toBe(`h${results.indexOf(true)}`);
    });

    it('of 20 holders racing for an expired lease, exactly one wins', async () => {
      const { store, other } = stores();
      await store.tryAcquire('purge', 'old', T0, TTL);
      const later = T0 + TTL;
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).tryAcquire('purge', `h${i}`, later, TTL)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}
