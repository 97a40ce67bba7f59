import { type NewTicket, type TicketKind, type TicketRegistry, newTicketId, ticketKey } from '../../src/tickets/registry';
import { type StoreFactory, freshStores } from './store-database';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const PREFIX: Record<TicketKind, string> = { TGT: 'TGT-', ST: 'ST-', PT: 'PT-', PGT: 'PGT-' };

/** A ticket of `kind`, alive from T0 for an hour (idle expiry half an hour), under `parent` when given. */
function ticket(kind: TicketKind, parent?: NewTicket, extra: Partial<NewTicket> = {}): NewTicket {
  const parentKey = parent ? ticketKey(parent.id) : null;
  return {
    id: newTicketId(PREFIX[kind]),
    kind,
    tgtKey: parent ? (parent.tgtKey ?? parentKey) : null,
    parentKey,
    accountId: 7,
    principal: 'alice',
    service: kind === 'TGT' ? null : 'https://app.example.org/',
    createdAt: T0,
    expiresAt: T0 + HOUR,
    idleExpiresAt: T0 + HOUR / 2,
    data: { renewed: false, attributes: { mail: ['alice@example.org'] } },
    ...extra,
  };
}

/**
 * The ticket registry contract (Apereo CAS's BaseTicketRegistryTests idea):
 * every TicketRegistry, whatever it stores tickets in, passes these.
 */
export function ticketRegistryContract(name: string, factory: StoreFactory<TicketRegistry>): void {
  describe(`TicketRegistry contract: ${name}`, () => {
    const stores = freshStores(factory);

    it('gives back what was added, keyed by the hash of the id, to any instance', async () => {
      const { store, other } = stores();
      const tgt = ticket('TGT');
      const st = ticket('ST', tgt);
      await store.add(tgt);
      await store.add(st);
      const { id, ...stored } = st;
      expect(await other.get(id, 'ST', T0)).toEqual({ ...stored, key: ticketKey(id) });
      expect((await other.get(tgt.id, 'TGT', T0))?.tgtKey).toBeNull();
    });

    it('finds nothing for an unknown id, another kind, or a ticket past its hard or idle expiry', async () => {
      const { store } = stores();
      const tgt = ticket('TGT', undefined, { idleExpiresAt: T0 + 10 });
      await store.add(tgt);
      expect(await store.get(newTicketId('TGT-'), 'TGT', T0)).toBeNull();
      expect(await store.get(tgt.id, 'ST', T0)).toBeNull();
      expect(await store.get(tgt.id, 'TGT', T0 + 9)).not.toBeNull();
      expect(await store.get(tgt.id, 'TGT', T0 + 10)).toBeNull();
      const short = ticket('TGT', undefined, { expiresAt: T0 + 5, idleExpiresAt: T0 + HOUR });
      await store.add(short);
      expect(await store.get(short.id, 'TGT', T0 + 5)).toBeNull();
    });

    it('never keeps an idle expiry past the hard expiry', async () => {
      const { store } = stores();
      const tgt = ticket('TGT', undefined, { expiresAt: T0 + 100, idleExpiresAt: T0 + HOUR });
      await store.add(tgt);
      expect((await store.get(tgt.id, 'TGT', T0))?.idleExpiresAt).toBe(T0 + 100);
    });

    it('consume hands a ticket out once, then it is gone', async () => {
      const { store, other } = stores();
      const st = ticket('ST', ticket('TGT'));
      await store.add(st);
      expect((await other.consume(st.id, ['ST'], T0))?.key).toBe(ticketKey(st.id));
      expect(await store.consume(st.id, ['ST'], T0)).toBeNull();
      expect(await store.get(st.id, 'ST', T0)).toBeNull();
    });

    it('consume of a ticket of another kind gives nothing and leaves it in place', async () => {
      const { store } = stores();
      const pgt = ticket('PGT', ticket('TGT'));
      await store.add(pgt);
      expect(await store.consume(pgt.id, ['ST', 'PT'], T0)).toBeNull();
      expect(await store.get(pgt.id, 'PGT', T0)).not.toBeNull();
      expect((await store.consume(pgt.id, ['PGT', 'ST'], T0))?.kind).toBe('PGT');
    });

    it('consume of an expired ticket gives nothing', async () => {
      const { store } = stores();
      const st = ticket('ST', ticket('TGT'), { expiresAt: T0 + 10 });
      await store.add(st);
      expect(await store.consume(st.id, ['ST'], T0 + 10)).toBeNull();
    });

    it('of 30 parallel consumers on two instances, exactly one gets the ticket', async () => {
      const { store, other } = stores();
      const st = ticket('ST', ticket('TGT'));
      await store.add(st);
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? store : other).consume(st.id, ['ST'], T0)));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    });

    it('touch pushes the idle expiry back, never past the hard expiry', async () => {
      const { store } = stores();
      const tgt = ticket('TGT');
      await store.add(tgt);
      await store.touch(tgt.id, T0 + HOUR / 2 + 1000);
      expect((await store.get(tgt.id, 'TGT', T0 + HOUR / 2))?.idleExpiresAt).toBe(T0 + HOUR / 2 + 1000);
      await store.touch(tgt.id, T0 + 2 * HOUR);
      expect((await store.get(tgt.id, 'TGT', T0))?.idleExpiresAt).toBe(T0 + HOUR);
    });

    it('deleteSession removes the TGT and every ticket issued under it, and nothing else', async () => {
      const { store, other } = stores();
      const tgt = ticket('TGT');
      const pgt = ticket('PGT', tgt);
      const children = [ticket('ST', tgt), pgt, ticket('PT', pgt)];
      const otherSession = ticket('TGT');
      const otherSt = ticket('ST', otherSession);
      for (const t of [tgt, ...children, otherSession, otherSt]) await store.add(t);
      expect(await other.deleteSession(tgt.id)).toBe(4);
      for (const t of [tgt, ...children]) expect(await store.get(t.id, t.kind, T0)).toBeNull();
      expect(await store.get(otherSession.id, 'TGT', T0)).not.toBeNull();
      expect(await store.get(otherSt.id, 'ST', T0)).not.toBeNull();
      expect(await store.deleteSession(tgt.id)).toBe(0);
    });

    it('deleteExpired removes dead tickets and the children of dead sessions, reporting each dead session', async () => {
      const { store } = stores();
      const dead = ticket('TGT', undefined, { expiresAt: T0 + 10 });
      const orphan = ticket('ST', dead);
      const alive = ticket('TGT');
      const deadSt = ticket('ST', alive, { idleExpiresAt: T0 + 10 });
      const liveSt = ticket('ST', alive);
      for (const t of [dead, orphan, alive, deadSt, liveSt]) await store.add(t);
      const purge = await store.deleteExpired(T0 + 10, 1000);
      expect(purge.count).toBe(3);
      expect(purge.expiredSessions.map((s) => s.key)).toEqual([ticketKey(dead.id)]);
      expect(await store.countActive('ST', T0)).toBe(1);
      expect(await store.get(liveSt.id, 'ST', T0 + 10)).not.toBeNull();
      expect(await store.deleteExpired(T0 + 10, 1000)).toEqual({ count: 0, expiredSessions: [] });
    });

    it('deleteExpired removes at most `limit` dead tickets per call (children of a dead session aside)', async () => {
      const { store } = stores();
      for (let i = 0; i < 3; i++) await store.add(ticket('ST', ticket('TGT'), { expiresAt: T0 + 10 }));
      expect((await store.deleteExpired(T0 + 10, 2)).count).toBe(2);
      expect((await store.deleteExpired(T0 + 10, 2)).count).toBe(1);
    });

    it('two instances purging at once report each dead session once', async () => {
      const { store, other } = stores();
      const dead = Array.from({ length: 20 }, () => ticket('TGT', undefined, { expiresAt: T0 + 10 }));
      for (const t of dead) await store.add(t);
      const [a, b] = await Promise.all([store.deleteExpired(T0 + 10, 1000), other.deleteExpired(T0 + 10, 1000)]);
      const reported = [...a.expiredSessions, ...b.expiredSessions].map((s) => s.key).sort();
      expect(reported).toEqual(dead.map((t) => ticketKey(t.id)).sort());
      expect(a.count + b.count).toBe(20);
    });

    it("sessionsOf lists an account's live sessions newest first; deleteSessionByKey ends one with its tickets", async () => {
      const { store, other } = stores();
      const older = ticket('TGT');
      const newer = ticket('TGT', undefined, { createdAt: T0 + 1 });
      const idle = ticket('TGT', undefined, { idleExpiresAt: T0 + 10 });
      const someoneElse = ticket('TGT', undefined, { accountId: 8 });
      const st = ticket('ST', newer);
      for (const t of [older, newer, idle, someoneElse, st]) await store.add(t);
      expect((await other.sessionsOf(7, T0 + 10)).map((s) => s.key)).toEqual([ticketKey(newer.id), ticketKey(older.id)]);
      expect(await other.deleteSessionByKey(ticketKey(newer.id))).toBe(2);
      expect(await store.get(st.id, 'ST', T0)).toBeNull();
      expect((await store.sessionsOf(7, T0 + 10)).map((s) => s.key)).toEqual([ticketKey(older.id)]);
      expect(await store.deleteSessionByKey(ticketKey(newer.id))).toBe(0);
    });

    it('countActive counts the live tickets of one kind at a moment', async () => {
      const { store } = stores();
      const tgt = ticket('TGT');
      await store.add(tgt);
      await store.add(ticket('ST', tgt));
      await store.add(ticket('ST', tgt, { expiresAt: T0 + 10 }));
      await store.add(ticket('ST', tgt, { idleExpiresAt: T0 + 10 }));
      expect(await store.countActive('ST', T0 + 9)).toBe(3);
      expect(await store.countActive('ST', T0 + 10)).toBe(1);
      expect(await store.countActive('TGT', T0 + 10)).toBe(1);
      expect(await store.countActive('PT', T0)).toBe(0);
    });
  });
}
