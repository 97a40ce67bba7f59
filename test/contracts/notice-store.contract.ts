import type { NoticeStore } from '../../src/storage/notice-store';
import { ALICE, BOB, raceWins } from './contract-accounts';
import { type StoreFactory, freshStores } from './store-database';

/**
 * What a notice store must offer. Typed against the knex class
 * (src/storage/notice-store.ts): its consumers (cas/login/flow.ts,
 * web/login-routes.ts) name the class, whose two methods are the interface.
 */
export type NoticeStoreContract = Pick<NoticeStore, 'hasAccepted' | 'accept'>;

const T0 = 1_700_000_000_000;

/** Who accepted which version of the notice: once per account and version, seen by every instance. */
export function noticeStoreContract(name: string, factory: StoreFactory<NoticeStoreContract>): void {
  describe(`NoticeStore contract: ${name}`, () => {
    const stores = freshStores(factory);

    it('records an acceptance per account and version, visible to another instance', async () => {
      const { store, other } = stores();
      expect(await store.hasAccepted(ALICE, '2026-1')).toBe(false);
      expect(await store.accept(ALICE, '2026-1', 'en', T0)).toBe(true);
      expect(await other.hasAccepted(ALICE, '2026-1')).toBe(true);
      expect(await other.hasAccepted(ALICE, '2026-2')).toBe(false);
      expect(await other.hasAccepted(BOB, '2026-1')).toBe(false);
    });

    it('says false for a second acceptance of the same version (a second tab, a replayed form)', async () => {
      const { store, other } = stores();
      await store.accept(ALICE, '2026-1', 'en', T0);
      expect(await other.accept(ALICE, '2026-1', 'fr', T0 + 1)).toBe(false);
      expect(await other.accept(ALICE, '2026-2', 'fr', T0 + 1)).toBe(true);
      expect(await other.accept(BOB, '2026-1', 'fr', T0 + 1)).toBe(true);
    });

    it('of 20 acceptances racing from two instances, exactly one is recorded and none fails', async () => {
      const { store, other } = stores();
      expect(await raceWins([store, other], (s) => s.accept(ALICE, '2026-1', 'en', T0))).toBe(1);
      expect(await other.hasAccepted(ALICE, '2026-1')).toBe(true);
    });
  });
}
