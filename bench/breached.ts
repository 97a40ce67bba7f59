import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { sha1, sizeFilter } from '../src/policy/breached-filter';
import { forEachLine, importBreachedCorpus, measureFalsePositiveRate } from '../src/policy/breached-import';
import { type BenchOptions, type Figure, round, tempDirs } from './support';
import { syncRate } from './password-policy';

const LINES = 10_000_000;
const FP_RATE = 0.001;

/** The public corpus's shape: 40 upper-case hex digits, ':', a count; most frequent first. */
async function writeCorpus(file: string, lines: number): Promise<void> {
  const out = createWriteStream(file);
  const batch = 100_000;
  for (let done = 0; done < lines; done += batch) {
    const bytes = randomBytes(20 * batch);
    const text: string[] = [];
    for (let i = 0; i < batch; i++) text.push(`${bytes.toString('hex', i * 20, i * 20 + 20).toUpperCase()}:${Math.max(1, Math.floor(1e7 / (done + i + 1)))}\n`);
    if (!out.write(text.join(''))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/**
 * Import rate of a generated 10,000,000-line SHA-1 corpus against raw SHA-1
 * hashing of the same lines (read the same way) in the same run; then
 * lookups per second, bits per entry and the measured false-positive rate.
 */
export async function benchBreached(options: BenchOptions): Promise<Figure[]> {
  const { dataDir } = tempDirs();
  const corpus = path.join(path.dirname(dataDir), 'corpus.txt');
  try {
    options.log(`generating ${LINES} SHA-1:count lines`);
    await writeCorpus(corpus, LINES);
    options.log(`corpus: ${statSync(corpus).size} bytes; raw SHA-1 of every line, then import (fp rate ${FP_RATE})`);
    let t = process.hrtime.bigint();
    let sink = 0;
    const hashed = await forEachLine(corpus, (buf, start, end) => {
      sink ^= createHash('sha1').update(buf.subarray(start, end)).digest()[0];
    });
    const rawRate = hashed / seconds(t);
    t = process.hrtime.bigint();
    const result = await importBreachedCorpus(corpus, { fpRate: FP_RATE });
    const importRate = result.lines / seconds(t);
    const filter = result.filter;
    const passwords = Array.from({ length: 10_000 }, () => randomBytes(9).toString('base64'));
    const digests = passwords.map(sha1);
    const lookupRate = syncRate(options.seconds / 4, (i) => void (sink ^= filter.has(passwords[i % passwords.length]) ? 1 : 0));
    const digestRate = syncRate(options.seconds / 4, (i) => void (sink ^= filter.hasDigest(digests[i % digests.length]) ? 1 : 0));
    const fp = measureFalsePositiveRate(filter, 100_000);
    const billion = sizeFilter(1e9, FP_RATE).blocks * 64;
    options.log(`(checksum ${sink & 1})`);
    return [
      { name: 'breached_import_lines_per_second', value: round(importRate), unit: 'lines/s' },
      { name: 'breached_raw_sha1_lines_per_second', value: round(rawRate), unit: 'lines/s' },
      { name: 'breached_import_to_raw_sha1_ratio', value: round(importRate / rawRate, 3), unit: 'ratio (target >= 0.5)' },
      { name: 'breached_lookups_per_second', value: round(lookupRate), unit: 'lookups/s (SHA-1 included)' },
      { name: 'breached_lookups_per_second_prehashed', value: round(digestRate), unit: 'lookups/s' },
      { name: 'breached_bits_per_entry', value: round(filter.bitsPerEntry), unit: 'bits' },
      { name: 'breached_false_positive_rate', value: round(fp, 5), unit: `measured on 100,000 random strings (sized for ${FP_RATE})` },
      { name: 'breached_filter_bytes_10m', value: filter.sizeBytes, unit: 'bytes' },
      { name: 'breached_filter_bytes_1e9_extrapolated', value: billion, unit: 'bytes' },
      { name: 'breached_import_seconds_1e9_extrapolated', value: round(1e9 / importRate), unit: 's' },
    ];
  } finally {
    rmSync(path.dirname(dataDir), { recursive: true, force: true });
  }
}
