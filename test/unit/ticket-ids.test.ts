import { sha256Hex } from '../../src/shared/random';
import { newTicketId, ticketKey } from '../../src/tickets/registry';

describe('ticket ids and their stored keys', () => {
  it('new ids: prefix, 11 hex digits of issue time, then 43 random characters of [A-Za-z0-9] (32 bytes)', () => {
    const before = Date.now();
    const id = newTicketId('ST-');
    const after = Date.now();
    expect(id).toMatch(/^ST-[0-9a-f]{11}[A-Za-z0-9]{43}$/);
    const issued = parseInt(id.slice(3, 14), 16);
    expect(issued).toBeGreaterThanOrEqual(before);
    expect(issued).toBeLessThanOrEqual(after);
    expect(new Set(Array.from({ length: 1000 }, () => newTicketId('TGT-'))).size).toBe(1000);
  });

  it('keys of new ids: the issue time, then the SHA-256 of the whole id cut to fit 64 characters', () => {
    const id = newTicketId('TGT-');
    const key = ticketKey(id);
    expect(key).toHaveLength(64);
    expect(key).toBe(`${id.slice(4, 15)}${sha256Hex(id).slice(0, 53)}`);
    expect(key).not.toContain(id.slice(15));
  });

  it('keys sort by issue time, so new tickets land next to each other in the index', () => {
    const early = `ST-${(1_700_000_000_000).toString(16)}${'a'.repeat(43)}`;
    const late = `ST-${(1_700_000_000_001).toString(16)}${'Z'.repeat(43)}`;
    expect(ticketKey(early) < ticketKey(late)).toBe(true);
  });

  it('ids without the issue time (issued by earlier versions, or made up) keep the plain SHA-256 key', () => {
    const legacy = `TGT-${'x'.repeat(43)}`;
    expect(ticketKey(legacy)).toBe(sha256Hex(legacy));
    for (const odd of ['ST-', 'ST-0123456789a', `st-0123456789a${'b'.repeat(43)}`, `ST-0123456789a${'b'.repeat(44)}`]) expect(ticketKey(odd)).toBe(sha256Hex(odd));
  });
});
