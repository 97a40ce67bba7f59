import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';

/**
 * An offline breached-password filter: a blocked Bloom filter keyed by the
 * SHA-1 of the password (the public breach corpus's own key). Each key sets
 * k bits inside one 512-bit block, so a lookup or an insert touches one cache
 * line; the block and the bit positions come straight from the SHA-1 digest
 * (uniform already), so nothing is hashed twice.
 *
 * File: "PCBLOOM1", u32 LE header length, JSON header, then `blocks` × 64
 * bytes. The header records the source, date, parameters and the SHA-256 of
 * the body, so a truncated or corrupted file is refused at load.
 */

export const FILTER_MAGIC = Buffer.from('PCBLOOM1', 'latin1');
const BLOCK_BYTES = 64;
const BLOCK_BITS = BLOCK_BYTES * 8;
/** 48 bits of the digest choose the block and 9 bits choose each position: 160 - 48 = 112 leaves room for 12. */
const MAX_K = 12;
const MAX_HEADER_BYTES = 64 * 1024;

export interface FilterHeader {
  format: 'blocked-bloom-512';
  /** What was imported (file name, format, --top) and when. */
  source: string;
  createdAt: string;
  entries: number;
  /** The false-positive rate the filter was sized for. */
  fpRate: number;
  k: number;
  blocks: number;
  bodySha256: string;
}

/** Poisson-weighted false-positive rate of a blocked Bloom filter (keys per block vary). */
export function blockedBloomFpRate(entries: number, blocks: number, k: number): number {
  const lambda = entries / blocks;
  const limit = Math.ceil(lambda + 12 * Math.sqrt(lambda) + 20);
  let weight = Math.exp(-lambda);
  let rate = 0;
  for (let j = 0; j <= limit; j++) {
    if (j > 0) weight *= lambda / j;
    rate += weight * (1 - (1 - 1 / BLOCK_BITS) ** (j * k)) ** k;
  }
  return rate;
}

/** The smallest filter (blocks, k) whose expected false-positive rate is at most `fpRate`. */
export function sizeFilter(entries: number, fpRate: number): { blocks: number; k: number } {
  let best = { blocks: Number.MAX_SAFE_INTEGER, k: 1 };
  for (let k = 1; k <= MAX_K; k++) {
    let low = 1;
    let high = Math.max(1, Math.ceil((entries * 64) / BLOCK_BITS));
    while (blockedBloomFpRate(entries, high, k) > fpRate) high *= 2;
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      if (blockedBloomFpRate(entries, mid, k) <= fpRate) high = mid;
      else low = mid + 1;
    }
    if (high < best.blocks) best = { blocks: high, k };
  }
  return best;
}

export function sha1(password: string): Buffer {
  return createHash('sha1').update(password, 'utf8').digest();
}

/** Byte offset of the digest's block, and its k bit positions written into `positions`. */
function locate(digest: Uint8Array, blocks: number, k: number, positions: Uint16Array): number {
  const high = ((digest[0] << 24) | (digest[1] << 16) | (digest[2] << 8) | digest[3]) >>> 0;
  const block = (high * 65536 + ((digest[4] << 8) | digest[5])) % blocks;
  for (let i = 0; i < k; i++) {
    const bit = 48 + 9 * i;
    const byte = bit >> 3;
    positions[i] = (((digest[byte] << 8) | digest[byte + 1]) >> (7 - (bit & 7))) & 511;
  }
  return block * BLOCK_BYTES;
}

/** Membership test over a compact Buffer (no per-entry JavaScript objects). */
export class BreachedFilter {
  private readonly positions = new Uint16Array(MAX_K);

  constructor(
    readonly header: FilterHeader,
    private readonly bits: Buffer,
  ) {}

  hasDigest(digest: Uint8Array): boolean {
    const base = locate(digest, this.header.blocks, this.header.k, this.positions);
    for (let i = 0; i < this.header.k; i++) {
      const p = this.positions[i];
      if ((this.bits[base + (p >> 3)] & (1 << (p & 7))) === 0) return false;
    }
    return true;
  }

  has(password: string): boolean {
    return this.hasDigest(sha1(password));
  }

  get sizeBytes(): number {
    return this.bits.length;
  }

  get bitsPerEntry(): number {
    return this.header.entries > 0 ? (this.bits.length * 8) / this.header.entries : 0;
  }
}

/** Builds a filter for a known number of entries; `add` takes the 20-byte SHA-1 digest. */
export class FilterBuilder {
  readonly blocks: number;
  readonly k: number;
  private readonly bits: Buffer;
  private readonly positions = new Uint16Array(MAX_K);
  added = 0;

  constructor(
    readonly entries: number,
    readonly fpRate: number,
  ) {
    ({ blocks: this.blocks, k: this.k } = sizeFilter(Math.max(entries, 1), fpRate));
    this.bits = Buffer.alloc(this.blocks * BLOCK_BYTES);
  }

  add(digest: Uint8Array): void {
    const base = locate(digest, this.blocks, this.k, this.positions);
    for (let i = 0; i < this.k; i++) {
      const p = this.positions[i];
      this.bits[base + (p >> 3)] |= 1 << (p & 7);
    }
    this.added++;
  }

  finish(source: string, createdAt: Date): { header: FilterHeader; bits: Buffer; filter: BreachedFilter } {
    const header: FilterHeader = {
      format: 'blocked-bloom-512',
      source,
      createdAt: createdAt.toISOString(),
      entries: this.added,
      fpRate: this.fpRate,
      k: this.k,
      blocks: this.blocks,
      bodySha256: createHash('sha256').update(this.bits).digest('hex'),
    };
    return { header, bits: this.bits, filter: new BreachedFilter(header, this.bits) };
  }
}

function encodeHeader(header: FilterHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([FILTER_MAGIC, length, json]);
}

/** Writes next to the target, flushes, then renames: readers see the old file or the new one, never half of one. */
export function writeFilterAtomically(header: FilterHeader, bits: Buffer, target: string): number {
  mkdirSync(path.dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o644);
  try {
    const head = encodeHeader(header);
    writeSync(fd, head);
    // writeSync moves at most 2 GiB per call.
    for (let offset = 0; offset < bits.length; offset += 1 << 28) writeSync(fd, bits, offset, Math.min(1 << 28, bits.length - offset));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, target);
    return head.length + bits.length;
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
}

export class FilterFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`breached-password filter ${file}: ${reason}`);
    this.name = 'FilterFileError';
  }
}

function checkHeader(file: string, value: unknown): FilterHeader {
  const h = value as Partial<FilterHeader>;
  const whole = (n: unknown, min: number) => typeof n === 'number' && Number.isInteger(n) && n >= min;
  if (h?.format !== 'blocked-bloom-512') throw new FilterFileError(file, `unknown format "${String(h?.format)}"`);
  if (!whole(h.entries, 0) || !whole(h.blocks, 1) || !whole(h.k, 1) || (h.k as number) > MAX_K || typeof h.bodySha256 !== 'string') {
    throw new FilterFileError(file, 'corrupt header (entries, blocks, k or checksum missing or out of range)');
  }
  return h as FilterHeader;
}

/**
 * Reads and verifies a filter file into one off-heap Buffer (blocks × 64 bytes;
 * about 16 bits per entry at a 1/1000 false-positive rate). Asynchronous, so
 * a SIGHUP reload does not stall requests. Throws FilterFileError naming the file.
 */
export async function loadFilter(file: string): Promise<BreachedFilter> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new FilterFileError(file, `cannot be opened (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const { size } = await handle.stat();
    const prefix = Buffer.alloc(12);
    await handle.read(prefix, 0, 12, 0);
    if (size < 12 || !prefix.subarray(0, 8).equals(FILTER_MAGIC)) throw new FilterFileError(file, 'not a Portcullis filter file (bad magic)');
    const headerLength = prefix.readUInt32LE(8);
    if (headerLength > MAX_HEADER_BYTES || 12 + headerLength > size) throw new FilterFileError(file, 'corrupt or truncated header');
    const json = Buffer.alloc(headerLength);
    await handle.read(json, 0, headerLength, 12);
    let parsed: unknown;
    try {
      parsed = JSON.parse(json.toString('utf8'));
    } catch {
      throw new FilterFileError(file, 'corrupt header (not JSON)');
    }
    const header = checkHeader(file, parsed);
    const bodyLength = header.blocks * BLOCK_BYTES;
    if (size !== 12 + headerLength + bodyLength) {
      throw new FilterFileError(file, `truncated or padded: ${size} bytes, the header describes ${12 + headerLength + bodyLength}`);
    }
    const bits = Buffer.allocUnsafe(bodyLength);
    const digest = createHash('sha256');
    for (let offset = 0; offset < bodyLength; ) {
      const { bytesRead } = await handle.read(bits, offset, Math.min(1 << 24, bodyLength - offset), 12 + headerLength + offset);
      if (bytesRead === 0) throw new FilterFileError(file, 'truncated while reading');
      digest.update(bits.subarray(offset, offset + bytesRead));
      offset += bytesRead;
    }
    if (digest.digest('hex') !== header.bodySha256) throw new FilterFileError(file, 'corrupt body (SHA-256 does not match the header)');
    return new BreachedFilter(header, bits);
  } finally {
    await handle.close();
  }
}
