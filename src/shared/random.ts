import { createHash, randomFillSync, timingSafeEqual } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// CSPRNG output is drawn in 4 KiB refills: one randomBytes() call per ticket
// was a visible share of issuing one. Each byte is used once.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function nextRandomByte(): number {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++];
}

/**
 * Random string over [A-Za-z0-9] (the CAS ticket alphabet) carrying at least
 * `bytes` bytes of entropy. Rejection sampling keeps the distribution uniform:
 * bytes from 248 up are dropped (248 = 4 × 62).
 */
export function randomAlphanumeric(bytes: number): string {
  const length = Math.ceil((bytes * 8) / Math.log2(ALPHANUMERIC.length));
  let out = '';
  while (out.length < length) {
    const b = nextRandomByte();
    if (b < 248) out += ALPHANUMERIC[b % 62];
  }
  return out;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
