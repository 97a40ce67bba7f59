import { randomAlphanumeric } from '../../src/shared/random';

describe('randomAlphanumeric (ticket ids)', () => {
  it('has the length that carries the requested entropy, over [A-Za-z0-9] only', () => {
    // 32 bytes = 256 bits; log2(62) = 5.954 bits per character -> 43 characters.
    const id = randomAlphanumeric(32);
    expect(id).toMatch(/^[A-Za-z0-9]{43}$/);
    expect(randomAlphanumeric(12)).toMatch(/^[A-Za-z0-9]{17}$/);
  });

  it('never repeats, across many refills of its random pool', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => randomAlphanumeric(32)));
    expect(ids.size).toBe(5000);
  });

  it('uses every symbol about equally (a modulo bias would give the first eight 25% more)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 124_000 / 43; i++) for (const c of randomAlphanumeric(32)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Expected ~2000 each (standard deviation ~44); a biased symbol would sit near 2500.
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(1700);
      expect(n).toBeLessThan(2300);
    }
  });
});
