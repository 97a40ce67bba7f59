import { MeteredTicketRegistry } from '../../src/ops/metered-tickets';
import type { NewTicket, StoredTicket, TicketRegistry } from '../../src/tickets/registry';

const stored: StoredTicket = { key: 'k', kind: 'TGT', tgtKey: null, parentKey: null, accountId: 7, principal: 'alice', service: null, createdAt: 1, expiresAt: 3, idleExpiresAt: 2, data: {} };
const newTicket = (kind: NewTicket['kind']): NewTicket => ({ ...stored, id: `${kind}-1`, kind });

/** A registry that records each call and answers with fixed values (the decorator must not care what it wraps). */
function recordingRegistry(failAdd = false) {
  const calls: string[] = [];
  const log = <T>(call: string, answer: T) => {
    calls.push(call);
    return Promise.resolve(answer);
  };
  const inner: TicketRegistry = {
    add: (t) => (failAdd ? Promise.reject(new Error('database down')) : log(`add ${t.id}`, undefined)),
    get: (id, kind, now) => log(`get ${id} ${kind} ${now}`, stored),
    getByKey: (key, kind, now) => log(`getByKey ${key} ${kind} ${now}`, stored),
    consume: (id, kinds, now) => log(`consume ${id} ${kinds.join(',')} ${now}`, stored),
    touch: (id, at) => log(`touch ${id} ${at}`, undefined),
    updateData: (id) => log(`updateData ${id}`, true),
    deleteSession: (id) => log(`deleteSession ${id}`, 4),
    deleteExpired: (now, limit) => log(`deleteExpired ${now} ${limit}`, { count: 1, expiredSessions: [stored] }),
    countActive: (kind, now) => log(`countActive ${kind} ${now}`, 5),
    sessionsOf: (id, now) => log(`sessionsOf ${id} ${now}`, [stored]),
    deleteSessionByKey: (key) => log(`deleteSessionByKey ${key}`, 2),
  };
  return { inner, calls };
}

describe('MeteredTicketRegistry (a decorator around any ticket registry)', () => {
  it('counts each ticket once the registry it wraps has stored it, by kind', async () => {
    const { inner, calls } = recordingRegistry();
    const issued: string[] = [];
    const metered = new MeteredTicketRegistry(inner, (kind) => issued.push(kind));
    await metered.add(newTicket('TGT'));
    await metered.add(newTicket('ST'));
    expect(calls).toEqual(['add TGT-1', 'add ST-1']);
    expect(issued).toEqual(['TGT', 'ST']);
  });

  it('counts nothing when the wrapped registry fails to store the ticket', async () => {
    const issued: string[] = [];
    const metered = new MeteredTicketRegistry(recordingRegistry(true).inner, (kind) => issued.push(kind));
    await expect(metered.add(newTicket('ST'))).rejects.toThrow('database down');
    expect(issued).toEqual([]);
  });

  it('passes every other call through with its arguments and answer, counting nothing', async () => {
    const { inner, calls } = recordingRegistry();
    const issued: string[] = [];
    const metered = new MeteredTicketRegistry(inner, (kind) => issued.push(kind));
    expect(await metered.get('ST-1', 'ST', 1)).toBe(stored);
    expect(await metered.getByKey('k', 'TGT', 1)).toBe(stored);
    expect(await metered.consume('ST-1', ['ST', 'PT'], 1)).toBe(stored);
    await metered.touch('TGT-1', 9);
    expect(await metered.updateData('TGT-1', { a: 1 })).toBe(true);
    expect(await metered.deleteSession('TGT-1')).toBe(4);
    expect(await metered.deleteExpired(1, 10)).toEqual({ count: 1, expiredSessions: [stored] });
    expect(await metered.countActive('TGT', 1)).toBe(5);
    expect(await metered.sessionsOf(7, 1)).toEqual([stored]);
    expect(await metered.deleteSessionByKey('k')).toBe(2);
    expect(calls).toEqual([
      'get ST-1 ST 1', 'getByKey k TGT 1', 'consume ST-1 ST,PT 1', 'touch TGT-1 9', 'updateData TGT-1',
      'deleteSession TGT-1', 'deleteExpired 1 10', 'countActive TGT 1', 'sessionsOf 7 1', 'deleteSessionByKey k',
    ]);
    expect(issued).toEqual([]);
  });
});
