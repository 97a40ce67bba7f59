import type { AuditEvent, AuditLog } from '../../src/storage/audit-log';
import { type StoreFactory, freshStores } from './store-database';

/** What an audit trail must offer (src/storage/audit-log.ts). */
export type AuditLogContract = Pick<AuditLog, 'append' | 'appendMany' | 'query' | 'observe'>;

const T0 = 1_700_000_000_000;

const login = (username: string, outcome: AuditEvent['outcome'] = 'failure'): AuditEvent => ({ event: 'login', outcome, username, clientIp: '192.0.2.10', backend: 'internal' });

/** An append-only trail, queried newest first with filters and paging. */
export function auditLogContract(name: string, factory: StoreFactory<AuditLogContract>): void {
  describe(`AuditLog contract: ${name}`, () => {
    const stores = freshStores(factory);

    it('stores every field of an event and gives it back, to any instance', async () => {
      const { store, other } = stores();
      await store.append({ ...login('alice', 'success'), actor: 'admin', userAgent: 'curl/8', details: { service: 'https://app.example.org/', n: 2 } }, T0);
      const { events, total } = await other.query({});
      expect(total).toBe(1);
      expect(events).toEqual([
        {
          id: expect.any(Number),
          at: T0,
          event: 'login',
          outcome: 'success',
          username: 'alice',
          actor: 'admin',
          backend: 'internal',
          clientIp: '192.0.2.10',
          userAgent: 'curl/8',
          details: { service: 'https://app.example.org/', n: 2 },
        },
      ]);
    });

    it('stores absent optional fields as null', async () => {
      const { store } = stores();
      await store.append({ event: 'policy_reloaded', outcome: 'info' }, T0);
      expect((await store.query({})).events[0]).toMatchObject({ username: null, actor: null, backend: null, clientIp: null, userAgent: null, details: null });
    });

    it('cuts over-long fields to their column sizes instead of failing', async () => {
      const { store } = stores();
      await store.append({ ...login('u'.repeat(300)), clientIp: '1'.repeat(80), userAgent: 'a'.repeat(600) }, T0);
      const [event] = (await store.query({})).events;
      expect([event.username?.length, event.clientIp?.length, event.userAgent?.length]).toEqual([256, 64, 512]);
    });

    it('lists newest first, filters by name, event and time range, and pages with the total of all matches', async () => {
      const { store } = stores();
      for (let i = 0; i < 5; i++) await store.append(login('alice'), T0 + i);
      await store.append(login('bob'), T0 + 2);
      await store.append({ event: 'account_locked', outcome: 'info', username: 'alice' }, T0 + 3);
      const alice = await store.query({ username: 'alice', event: 'login', offset: 1, limit: 2 });
      expect(alice.total).toBe(5);
      expect(alice.events.map((e) => e.at)).toEqual([T0 + 3, T0 + 2]);
      const range = await store.query({ from: T0 + 2, to: T0 + 3 });
      expect(range.events.map((e) => e.username).sort()).toEqual(['alice', 'bob']);
      expect((await store.query({ event: 'account_locked' })).events.map((e) => e.username)).toEqual(['alice']);
    });

    it('appendMany stores every event of a large batch at one time, and tells each observer of each event', async () => {
      const { store } = stores();
      const seen: string[] = [];
      store.observe((event) => seen.push(event.username ?? ''));
      const events = Array.from({ length: 250 }, (_, i) => login(`user${i}`));
      await store.appendMany(events, T0);
      const stored = await store.query({ limit: 1000 });
      expect(stored.total).toBe(250);
      expect(new Set(stored.events.map((e) => e.at))).toEqual(new Set([T0]));
      expect(seen).toEqual(events.map((e) => e.username));
    });
  });
}
