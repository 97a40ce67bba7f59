import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FilterBuilder, blockedBloomFpRate, loadFilter, sha1, sizeFilter, writeFilterAtomically } from '../../src/policy/breached-filter';
import { BreachedFilterSource } from '../../src/policy/breached-filter-source';
import { importBreachedCorpus, measureFalsePositiveRate } from '../../src/policy/breached-import';
import { InputError } from '../../src/shared/errors';

const hex = (password: string) => createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'breached-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeLines(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** 100,000 distinct passwords with distinct counts (count = 100,000 - index, so index 0 is the most frequent). */
const passwords = Array.from({ length: 100_000 }, (_, i) => `pw-${i}-${randomBytes(6).toString('base64url')}`);
const counted = passwords.map((p, i) => ({ p, line: `${hex(p)}:${100_000 - i}` }));

describe('breached-password filter', () => {
  it('sizes the filter for the rate asked (about 16 bits per entry at 1/1000)', () => {
    const { blocks, k } = sizeFilter(1_000_000, 0.001);
    expect(blockedBloomFpRate(1_000_000, blocks, k)).toBeLessThanOrEqual(0.001);
    expect(blockedBloomFpRate(1_000_000, blocks - 1, k)).toBeGreaterThan(0.001);
    expect((blocks * 512) / 1_000_000).toBeGreaterThan(14);
    expect((blocks * 512) / 1_000_000).toBeLessThan(18);
  });

  it.each([
    ['SHA-1:count ordered by hash', () => writeLines('by-hash.txt', [...counted].sort((a, b) => (a.line < b.line ? -1 : 1)).map((c) => c.line))],
    ['SHA-1:count ordered by count', () => writeLines('by-count.txt', counted.map((c) => c.line))],
    ['plain passwords', () => writeLines('plain.txt', passwords)],
  ])('%s: every one of 100,000 entries is found, and random strings hit within 2x the rate', async (_name, make) => {
    const result = await importBreachedCorpus(make(), { fpRate: 0.001 });
    expect(result.header.entries).toBe(100_000);
    expect(passwords.filter((p) => !result.filter.has(p))).toEqual([]);
    expect(measureFalsePositiveRate(result.filter, 100_000)).toBeLessThanOrEqual(0.002);
  });

  it('--top N keeps the N most frequent, whatever the order of the file (ties taken in file order)', async () => {
    const shuffled = [...counted].sort((a, b) => (a.line < b.line ? -1 : 1));
    const result = await importBreachedCorpus(writeLines('top.txt', shuffled.map((c) => c.line)), { fpRate: 1e-6, top: 1000 });
    expect(result.header.entries).toBe(1000);
    expect(result.header.source).toBe('top.txt (SHA-1, top 1000)');
    expect(passwords.slice(0, 1000).every((p) => result.filter.has(p))).toBe(true);
    expect(passwords.slice(1000).filter((p) => result.filter.has(p)).length).toBeLessThan(3);

    const ties = writeLines('ties.txt', [`${hex('a')}:5`, `${hex('b')}:9`, `${hex('c')}:5`, `${hex('d')}:5`, `${hex('e')}:1`]);
    const tied = await importBreachedCorpus(ties, { fpRate: 1e-6, top: 3 });
    expect(['a', 'b', 'c', 'd', 'e'].map((p) => tied.filter.has(p))).toEqual([true, true, true, false, false]);
  });

  it('--top N on a plain list keeps its first N lines (lists are published most common first)', async () => {
    const result = await importBreachedCorpus(writeLines('plain-top.txt', ['first', 'second', 'third']), { fpRate: 1e-6, top: 2 });
    expect(['first', 'second', 'third'].map((p) => result.filter.has(p))).toEqual([true, true, false]);
  });

  it('accepts CRLF and lower-case hex, and refuses a malformed SHA-1 line by number', async () => {
    const ok = await importBreachedCorpus(writeLines('crlf.txt', [`${hex('one')}:3\r`, `${hex('two').toLowerCase()}\r`]), { fpRate: 0.001 });
    expect(ok.filter.has('one') && ok.filter.has('two')).toBe(true);
    const bad = writeLines('bad.txt', [`${hex('one')}:3`, `${hex('two')}:x`]);
    await expect(importBreachedCorpus(bad, { fpRate: 0.001 })).rejects.toThrow(new InputError(`${bad} line 2: expected 40 hex digits, optionally ":count"`));
  });

  describe('file', () => {
    function build(passwordsIn: string[], source = 'test'): { file: string; bytes: Buffer } {
      const builder = new FilterBuilder(passwordsIn.length, 0.001);
      for (const p of passwordsIn) builder.add(sha1(p));
      const { header, bits } = builder.finish(source, new Date('2026-01-02T03:04:05Z'));
      const file = path.join(dir, `f-${randomBytes(4).toString('hex')}.filter`);
      writeFilterAtomically(header, bits, file);
      return { file, bytes: readFileSync(file) };
    }

    it('round-trips with its header (source, date, parameters) and leaves no temporary file', async () => {
      const { file } = build(['hunter2', 'letmein'], 'rockyou.txt (plain passwords)');
      const loaded = await loadFilter(file);
      expect(loaded.has('hunter2') && loaded.has('letmein')).toBe(true);
      expect(loaded.header).toMatchObject({ source: 'rockyou.txt (plain passwords)', createdAt: '2026-01-02T03:04:05.000Z', entries: 2, fpRate: 0.001 });
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });

    it('refuses a truncated, corrupted or foreign file with a message naming it', async () => {
      const { file, bytes } = build(passwords.slice(0, 5000));
      truncateSync(file, bytes.length - 1);
      await expect(loadFilter(file)).rejects.toThrow(`breached-password filter ${file}: truncated or padded`);
      const flipped = Buffer.from(bytes);
      flipped[flipped.length - 100] ^= 0x10;
      writeFileSync(file, flipped);
      await expect(loadFilter(file)).rejects.toThrow(`breached-password filter ${file}: corrupt body (SHA-256 does not match the header)`);
      writeFileSync(file, 'password123\nqwerty\n');
      await expect(loadFilter(file)).rejects.toThrow(`breached-password filter ${file}: not a Portcullis filter file (bad magic)`);
      const header = Buffer.from(bytes);
      header.write('{', 12);
      writeFileSync(file, header.subarray(0, 40));
      await expect(loadFilter(file)).rejects.toThrow(`breached-password filter ${file}:`);
    });

    it('a missing default file means no filter; a configured one must exist', async () => {
      const missing = path.join(dir, 'none.filter');
      const optional = new BreachedFilterSource(missing, false);
      await optional.load();
      expect(optional.get()).toBeNull();
      await expect(new BreachedFilterSource(missing, true).load()).rejects.toThrow(`breached-password filter ${missing}: does not exist`);
    });

    it('SIGHUP reloads the file; a bad replacement keeps the filter already loaded', async () => {
      const first = build(['alpha-one']);
      const source = new BreachedFilterSource(first.file, true);
      await source.load();
      const stop = source.watch();
      try {
        const second = build(['beta-two']);
        writeFileSync(first.file, second.bytes);
        // The SIGHUP listener, as the signal runs it (jest's sandboxed process cannot receive a real one).
        process.emit('SIGHUP', 'SIGHUP');
        await waitFor(() => source.get()?.has('beta-two') === true);
        expect(source.get()?.has('alpha-one')).toBe(false);
        writeFileSync(first.file, second.bytes.subarray(0, 100));
        expect(await source.reload()).toBe(false);
        expect(source.get()?.has('beta-two')).toBe(true);
      } finally {
        stop();
      }
      expect(existsSync(first.file)).toBe(true);
    });
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}
