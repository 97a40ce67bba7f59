import type { LockoutStore } from '../../src/storage/lockout-store';
import { type StoreFactory, freshStores } from './store-database';

/** What a lockout store must offer (src/storage/lockout-store.ts). */
export type LockoutStoreContract = Pick<LockoutStore, 'get' | 'claim' | 'release' | 'reset' | 'purgeStale'>;

const LIMIT = 3;
const LOCK_MS = 60_000;
const T0 = 1_700_000_000_000;

/**
 * The lockout store's contract: claims are counted by the database, so at
 * most LIMIT claims per name are granted between two resets or lock expiries,
 * however many attempts race on however many instances.
 */
export function lockoutStoreContract(name: string, factory: StoreFactory<LockoutStoreContract>): void {
  describe(`LockoutStore contract: ${name}`, () => {
    const stores = freshStores(factory);
    const claim = (now = T0, store = stores().store) => store.claim('alice', now, LIMIT, LOCK_MS);

    it('knows nothing of a name never claimed', async () => {
      expect(await stores().store.get('alice')).toEqual({ failureCount: 0, lockedUntil: null });
    });

    it('counts claims one by one, and the claim that reaches the limit sets the lock', async () => {
      expect(await claim()).toEqual({ failureCount: 1, lockedUntil: null });
      expect(await claim()).toEqual({ failureCount: 2, lockedUntil: null });
      expect(await claim()).toEqual({ failureCount: 3, lockedUntil: T0 + LOCK_MS });
      expect(await claim(T0 + 1)).toBeNull();
      expect(await stores().other.get('alice')).toEqual({ failureCount: 3, lockedUntil: T0 + LOCK_MS });
      expect(await stores().store.get('bob')).toEqual({ failureCount: 0, lockedUntil: null });
    });

    it('locks at the first claim when the limit is 1', async () => {
      expect(await stores().store.claim('alice', T0, 1, LOCK_MS)).toEqual({ failureCount: 1, lockedUntil: T0 + LOCK_MS });
      expect(await stores().store.claim('alice', T0, 1, LOCK_MS)).toBeNull();
    });

    it(`grants exactly ${LIMIT} of 50 parallel claims from two instances, and exactly one of them sets the lock`, async () => {
      const { store, other } = stores();
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => claim(T0, i % 2 === 0 ? store : other)));
      const granted = results.filter((r) => r !== null);
      expect(granted).toHaveLength(LIMIT);
      expect(granted.map((r) => r.failureCount).sort()).toEqual([1, 2, 3]);
      expect(granted.filter((r) => r.lockedUntil !== null)).toEqual([{ failureCount: LIMIT, lockedUntil: T0 + LOCK_MS }]);
      expect(await store.get('alice')).toEqual({ failureCount: LIMIT, lockedUntil: T0 + LOCK_MS });
    });

    it('release gives an unlocked place back, so another claim fits', async () => {
      await claim();
      const second = await claim();
      await stores().store.release('alice', second!);
      expect(await stores().store.get('alice')).toEqual({ failureCount: 1, lockedUntil: null });
      expect(await claim()).toEqual({ failureCount: 2, lockedUntil: null });
    });

    it('release of the claim that set the lock lifts that lock too', async () => {
      await claim();
      await claim();
      const third = await claim();
      await stores().store.release('alice', third!);
      expect(await stores().store.get('alice')).toEqual({ failureCount: 2, lockedUntil: null });
    });

    it('release leaves alone a count that moved on to another lock', async () => {
      const first = await claim();
      await claim();
      await claim();
      await stores().store.release('alice', first!);
      expect(await stores().store.get('alice')).toEqual({ failureCount: 3, lockedUntil: T0 + LOCK_MS });
    });

    it('starts a fresh count once the lock has run out, and not a moment before', async () => {
      for (let i = 0; i < LIMIT; i++) await claim();
      expect(await claim(T0 + LOCK_MS - 1)).toBeNull();
      expect(await claim(T0 + LOCK_MS)).toEqual({ failureCount: 1, lockedUntil: null });
    });

    it('a count left at a lowered limit without a lock refuses, then starts afresh after a lock period', async () => {
      for (let i = 0; i < 2; i++) await claim();
      expect(await stores().store.claim('alice', T0 + 1, 2, LOCK_MS)).toBeNull();
      expect(await stores().store.claim('alice', T0 + LOCK_MS, 2, LOCK_MS)).toEqual({ failureCount: 1, lockedUntil: null });
    });

    it('reset forgets the count and the lock', async () => {
      for (let i = 0; i < LIMIT; i++) await claim();
      await stores().store.reset('alice');
      expect(await stores().store.get('alice')).toEqual({ failureCount: 0, lockedUntil: null });
      expect(await claim(T0 + 1)).toEqual({ failureCount: 1, lockedUntil: null });
    });

    it('purgeStale forgets untouched counters and expired locks, never a lock in force', async () => {
      const { store } = stores();
      await store.claim('old', T0, LIMIT, LOCK_MS);
      for (let i = 0; i < LIMIT; i++) await store.claim('locked', T0, LIMIT, LOCK_MS);
      await store.claim('recent', T0 + 10, LIMIT, LOCK_MS);
      expect(await store.purgeStale(T0 + 10, T0 + LOCK_MS - 1)).toBe(1);
      expect(await store.get('old')).toEqual({ failureCount: 0, lockedUntil: null });
      expect((await store.get('locked')).failureCount).toBe(LIMIT);
      expect((await store.get('recent')).failureCount).toBe(1);
      expect(await store.purgeStale(T0 + 10, T0 + LOCK_MS)).toBe(1);
      expect((await store.get('locked')).failureCount).toBe(0);
    });
  });
}
