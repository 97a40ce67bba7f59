import type { ClientThrottleStore } from '../../src/storage/client-throttle-store';
import { type StoreFactory, freshStores } from './store-database';

/** What a client-address throttle store must offer (src/storage/client-throttle-store.ts). */
export type ClientThrottleStoreContract = Pick<ClientThrottleStore, 'window' | 'recordFailure' | 'purgeStale'>;

const WINDOW_MS = 60_000;
const T0 = 1_700_000_000_000;
const KEY = '192.0.2.10';

/** Failures per address key counted in fixed windows, exactly, whichever instance records them. */
export function clientThrottleStoreContract(name: string, factory: StoreFactory<ClientThrottleStoreContract>): void {
  describe(`ClientThrottleStore contract: ${name}`, () => {
    const stores = freshStores(factory);

    it('has no window for an address that never failed', async () => {
      expect(await stores().store.window(KEY, T0, WINDOW_MS)).toBeNull();
    });

    it('opens a window at the first failure and counts later ones in it', async () => {
      const { store } = stores();
      await store.recordFailure(KEY, T0, WINDOW_MS);
      await store.recordFailure(KEY, T0 + 5, WINDOW_MS);
      expect(await store.window(KEY, T0 + 5, WINDOW_MS)).toEqual({ failures: 2, endsAt: T0 + WINDOW_MS });
      expect(await store.window('192.0.2.11', T0 + 5, WINDOW_MS)).toBeNull();
    });

    it('counts every one of 40 parallel failures from two instances', async () => {
      const { store, other } = stores();
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? store : other).recordFailure(KEY, T0, WINDOW_MS)));
      expect(await store.window(KEY, T0, WINDOW_MS)).toEqual({ failures: 40, endsAt: T0 + WINDOW_MS });
    });

    it('closes the window when it ends, and the next failure opens a new one counting from 1', async () => {
      const { store } = stores();
      await store.recordFailure(KEY, T0, WINDOW_MS);
      await store.recordFailure(KEY, T0, WINDOW_MS);
      expect(await store.window(KEY, T0 + WINDOW_MS - 1, WINDOW_MS)).not.toBeNull();
      expect(await store.window(KEY, T0 + WINDOW_MS, WINDOW_MS)).toBeNull();
      await store.recordFailure(KEY, T0 + WINDOW_MS, WINDOW_MS);
      expect(await store.window(KEY, T0 + WINDOW_MS, WINDOW_MS)).toEqual({ failures: 1, endsAt: T0 + 2 * WINDOW_MS });
    });

    it('purgeStale forgets keys whose last failure is older than the cut-off', async () => {
      const { store } = stores();
      await store.recordFailure('old', T0, WINDOW_MS);
      await store.recordFailure('recent', T0 + 10, WINDOW_MS);
      expect(await store.purgeStale(T0 + 10)).toBe(1);
      expect(await store.window('old', T0 + 10, WINDOW_MS)).toBeNull();
      expect(await store.window('recent', T0 + 10, WINDOW_MS)).toEqual({ failures: 1, endsAt: T0 + 10 + WINDOW_MS });
    });
  });
}
