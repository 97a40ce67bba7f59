import type { NewParticipant, SingleLogoutStore } from '../../src/cas/single-logout-store';
import { type StoreFactory, freshStores } from './store-database';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const TGT_A = 'a'.repeat(64);
const TGT_B = 'b'.repeat(64);

/** A participant of session `tgtKey`, alive for an hour from T0. */
function participant(tgtKey: string, serviceUrl: string, ticketId: string, extra: Partial<NewParticipant> = {}): NewParticipant {
  return { tgtKey, serviceId: 3, serviceUrl, ticketId, createdAt: T0, expiresAt: T0 + HOUR, ...extra };
}

const urlsAndTickets = (ps: { serviceUrl: string; ticketId: string }[]) => ps.map((p) => `${p.serviceUrl} ${p.ticketId}`).sort();

const delivery = (n: number) => ({ serviceId: 3, url: `https://app${n}.example.org/logout`, body: `<samlp:LogoutRequest n="${n}"/>` });

/**
 * The single-logout store's contract (src/cas/single-logout-store.ts): the
 * participants of each session, taken once, and a delivery queue that any
 * number of instances share without delivering one attempt twice.
 */
export function singleLogoutStoreContract(name: string, factory: StoreFactory<SingleLogoutStore>): void {
  describe(`SingleLogoutStore contract: ${name}`, () => {
    const stores = freshStores(factory);

    it("gives a session's participants to any instance, once, leaving other sessions alone", async () => {
      const { store, other } = stores();
      await store.addParticipants([participant(TGT_A, 'https://a.example.org/', 'ST-1'), participant(TGT_A, 'https://b.example.org/', 'ST-2'), participant(TGT_B, 'https://a.example.org/', 'ST-3')]);
      const taken = await other.takeParticipants(TGT_A);
      expect(taken).toEqual(expect.arrayContaining([expect.objectContaining({ id: expect.any(Number), tgtKey: TGT_A, serviceId: 3 })]));
      expect(urlsAndTickets(taken)).toEqual(['https://a.example.org/ ST-1', 'https://b.example.org/ ST-2']);
      expect(await store.takeParticipants(TGT_A)).toEqual([]);
      expect(urlsAndTickets(await store.takeParticipants(TGT_B))).toEqual(['https://a.example.org/ ST-3']);
    });

    it('keeps one participant per session and service URL: the one recorded last, within a batch and across batches', async () => {
      const { store } = stores();
      await store.addParticipants([participant(TGT_A, 'https://a.example.org/', 'ST-1'), participant(TGT_A, 'https://a.example.org/', 'ST-2')]);
      await store.addParticipants([participant(TGT_A, 'https://a.example.org/', 'ST-3'), participant(TGT_B, 'https://a.example.org/', 'ST-4')]);
      expect(urlsAndTickets(await store.takeParticipants(TGT_A))).toEqual(['https://a.example.org/ ST-3']);
      expect(urlsAndTickets(await store.takeParticipants(TGT_B))).toEqual(['https://a.example.org/ ST-4']);
    });

    it('stores every participant of a batch larger than one statement holds', async () => {
      const { store } = stores();
      await store.addParticipants(Array.from({ length: 300 }, (_, i) => participant(TGT_A, `https://app${i}.example.org/`, `ST-${i}`)));
      expect(await store.takeParticipants(TGT_A)).toHaveLength(300);
    });

    it('of two instances taking one session at once, each participant goes to one of them', async () => {
      const { store, other } = stores();
      await store.addParticipants(Array.from({ length: 20 }, (_, i) => participant(TGT_A, `https://app${i}.example.org/`, `ST-${i}`)));
      const [a, b, c] = await Promise.all([store.takeParticipants(TGT_A), other.takeParticipants(TGT_A), store.takeParticipants(TGT_A)]);
      const ids = [...a, ...b, ...c].map((p) => p.id);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
    });

    it('purgeParticipants drops the participants that expired before the cut-off, and says how many', async () => {
      const { store } = stores();
      await store.addParticipants([participant(TGT_A, 'https://a.example.org/', 'ST-1', { expiresAt: T0 + 10 }), participant(TGT_B, 'https://a.example.org/', 'ST-2', { expiresAt: T0 + 20 })]);
      expect(await store.purgeParticipants(T0 + 20)).toBe(1);
      expect(await store.takeParticipants(TGT_A)).toEqual([]);
      expect(await store.takeParticipants(TGT_B)).toHaveLength(1);
    });

    it('queues deliveries due at once, hands them out oldest due first up to a limit, and lists them as pending', async () => {
      const { store, other } = stores();
      await store.enqueue([], T0);
      await store.enqueue([delivery(1), delivery(2)], T0 + 5);
      await store.enqueue([delivery(3)], T0);
      expect(await other.due(T0 - 1, 10)).toEqual([]);
      const due = await other.due(T0 + 5, 2);
      expect(due.map((d) => d.url)).toEqual(['https://app3.example.org/logout', expect.stringMatching(/^https:\/\/app[12]\.example\.org\/logout$/)]);
      expect(due[0]).toEqual({ id: expect.any(Number), serviceId: 3, url: 'https://app3.example.org/logout', body: '<samlp:LogoutRequest n="3"/>', attempts: 0, nextAttemptAt: T0 });
      const pending = await other.pending();
      expect(pending).toHaveLength(3);
      expect(pending[0]).toMatchObject({ url: 'https://app1.example.org/logout', attempts: 0, lastError: null });
    });

    it('of instances claiming one attempt at once, exactly one gets it; the claim hides the delivery until it runs out', async () => {
      const { store, other } = stores();
      await store.enqueue([delivery(1)], T0);
      const [d] = await store.due(T0, 10);
      const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).claim(d, T0, T0 + 1000)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await store.due(T0 + 999, 10)).toEqual([]);
      // A crashed deliverer's claim lapses: the delivery is due again, one attempt further on.
      const [again] = await other.due(T0 + 1000, 10);
      expect(again).toMatchObject({ id: d.id, attempts: 1 });
      expect(await store.claim(d, T0 + 1000, T0 + 2000)).toBe(false);
      expect(await store.claim(again, T0 + 1000, T0 + 2000)).toBe(true);
    });

    it('reschedule releases the claim, sets the next attempt and keeps the error (cut to 500 characters); complete removes the delivery', async () => {
      const { store, other } = stores();
      await store.enqueue([delivery(1), delivery(2)], T0);
      const [first, second] = await store.due(T0, 10);
      expect(await store.claim(first, T0, T0 + 1000)).toBe(true);
      await other.reschedule(first.id, T0 + 60_000, 'x'.repeat(600));
      expect((await store.due(T0 + 59_999, 10)).map((d) => d.id)).toEqual([second.id]);
      expect(await store.due(T0 + 60_000, 10)).toEqual(expect.arrayContaining([expect.objectContaining({ id: first.id, attempts: 1, nextAttemptAt: T0 + 60_000 })]));
      const [pending] = (await store.pending()).filter((p) => p.id === first.id);
      expect(pending.lastError).toBe('x'.repeat(500));
      await other.complete(second.id);
      expect((await store.pending()).map((p) => p.id)).toEqual([first.id]);
    });
  });
}
