import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../shared/errors';
import { type BreachedFilter, FilterBuilder, type FilterHeader, sha1 } from './breached-filter';

/**
 * Streams a breach corpus into a filter. Two formats, told apart by the first
 * line: the public corpus's `40-hex-SHA1[:count]` lines (ordered by hash or by
 * count) and plain passwords, one per line. Two passes over the file: the first
 * counts entries (and, for --top, the count histogram) so the filter is sized
 * exactly; the second inserts. Memory is the filter itself plus one read buffer.
 */

export type CorpusFormat = 'sha1' | 'plain';

export interface ImportOptions {
  fpRate: number;
  /** Keep only the N most frequent (by count; the first N lines of a plain list). */
  top?: number;
  onProgress?: (pass: 1 | 2, bytesRead: number, totalBytes: number) => void;
  now?: Date;
}

export interface ImportResult {
  format: CorpusFormat;
  lines: number;
  header: FilterHeader;
  bits: Buffer;
  filter: BreachedFilter;
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** Calls `onLine(buffer, start, end)` for every non-empty line (CR stripped); returns the line count. */
export async function forEachLine(file: string, onLine: (buf: Buffer, start: number, end: number, lineNo: number) => void, progress?: (bytes: number) => void): Promise<number> {
  let leftover: Buffer | null = null;
  let lineNo = 0;
  let bytes = 0;
  const emit = (buf: Buffer, start: number, end: number) => {
    lineNo++;
    if (end > start && buf[end - 1] === 13) end--;
    if (end > start) onLine(buf, start, end, lineNo);
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    const data: Buffer = leftover ? Buffer.concat([leftover, chunk]) : chunk;
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
      emit(data, start, nl);
      start = nl + 1;
    }
    leftover = start < data.length ? data.subarray(start) : null;
    progress?.(bytes);
  }
  if (leftover) emit(leftover, 0, leftover.length);
  return lineNo;
}

/** Decodes the 40 hex digits at `start` into `digest`; returns the count after ':' (1 if none), or -1 if the line is malformed. */
export function parseSha1Line(buf: Buffer, start: number, end: number, digest: Uint8Array): number {
  if (end - start < 40) return -1;
  for (let i = 0; i < 20; i++) {
    const hi = HEX[buf[start + 2 * i]];
    const lo = HEX[buf[start + 2 * i + 1]];
    if ((hi | lo) < 0) return -1;
    digest[i] = (hi << 4) | lo;
  }
  if (end === start + 40) return 1;
  if (buf[start + 40] !== 58 || end === start + 41) return -1;
  let count = 0;
  for (let i = start + 41; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    count = count * 10 + d;
  }
  return count;
}

export async function detectFormat(file: string): Promise<CorpusFormat> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const first = head.subarray(0, bytesRead).toString('utf8').split(/\r?\n/).find((line) => line.length > 0);
    if (first === undefined) throw new InputError(`${file} holds no entries`);
    return /^[0-9a-fA-F]{40}(:\d+)?$/.test(first) ? 'sha1' : 'plain';
  } finally {
    await handle.close();
  }
}

/** With --top N on counted lines: the count threshold T, and how many lines with exactly T are kept (ties, in file order). */
function topThreshold(histogram: Map<number, number>, top: number): { threshold: number; ties: number } {
  let kept = 0;
  for (const count of [...histogram.keys()].sort((a, b) => b - a)) {
    const n = histogram.get(count) as number;
    if (kept + n >= top) return { threshold: count, ties: top - kept };
    kept += n;
  }
  return { threshold: 0, ties: Number.MAX_SAFE_INTEGER };
}

/** Pass 1: entries to size the filter for, and the --top selection rule. */
async function survey(file: string, format: CorpusFormat, top: number | undefined, progress?: (bytes: number) => void) {
  const digest = new Uint8Array(20);
  const histogram = new Map<number, number>();
  let entries = 0;
  const lines = await forEachLine(
    file,
    (buf, start, end, lineNo) => {
      entries++;
      if (format !== 'sha1' || top === undefined) return;
      const count = parseSha1Line(buf, start, end, digest);
      if (count < 0) throw new InputError(`${file} line ${lineNo}: expected 40 hex digits, optionally ":count"`);
      histogram.set(count, (histogram.get(count) ?? 0) + 1);
    },
    progress,
  );
  if (entries === 0) throw new InputError(`${file} holds no entries`);
  if (top === undefined || top >= entries) return { lines, entries, select: { threshold: 0, ties: Number.MAX_SAFE_INTEGER } };
  if (format === 'plain') return { lines, entries: top, select: { threshold: 0, ties: top } };
  return { lines, entries: top, select: topThreshold(histogram, top) };
}

export async function importBreachedCorpus(file: string, options: ImportOptions): Promise<ImportResult> {
  const { size } = await stat(file);
  const format = await detectFormat(file);
  const { lines, entries, select } = await survey(file, format, options.top, (b) => options.onProgress?.(1, b, size));
  const builder = new FilterBuilder(entries, options.fpRate);
  const digest = new Uint8Array(20);
  let ties = select.ties;
  await forEachLine(
    file,
    (buf, start, end, lineNo) => {
      if (format === 'plain') {
        if (ties-- > 0) builder.add(createHash('sha1').update(buf.subarray(start, end)).digest());
        return;
      }
      const count = parseSha1Line(buf, start, end, digest);
      if (count < 0) throw new InputError(`${file} line ${lineNo}: expected 40 hex digits, optionally ":count"`);
      if (count > select.threshold || (count === select.threshold && ties-- > 0)) builder.add(digest);
    },
    (b) => options.onProgress?.(2, b, size),
  );
  const source = `${path.basename(file)} (${format === 'sha1' ? 'SHA-1' : 'plain passwords'}${options.top !== undefined ? `, top ${options.top}` : ''})`;
  return { format, lines, ...builder.finish(source, options.now ?? new Date()) };
}

/** Share of `samples` random strings (never inserted) the filter claims to hold. */
export function measureFalsePositiveRate(filter: BreachedFilter, samples = 100_000): number {
  let hits = 0;
  for (let i = 0; i < samples; i++) if (filter.hasDigest(sha1(randomBytes(12).toString('base64')))) hits++;
  return hits / samples;
}
