import argon2 from 'argon2';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Argon2Config } from '../config/schema';

const LEGACY_MD5 = /^[0-9a-fA-F]{32}$/;

/** True for an unsalted MD5 hex digest as NEC CAS stored them. */
export function isLegacyMd5(hash: string): boolean {
  return LEGACY_MD5.test(hash);
}

/**
 * Argon2id hashing with configured cost, plus verification of legacy NEC CAS
 * MD5 hashes so imported accounts can log in once and be upgraded.
 */
export class PasswordHasher {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly params: Argon2Config) {}

  hash(password: string): Promise<string> {
    return argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: this.params.memoryCost,
      timeCost: this.params.timeCost,
      parallelism: this.params.parallelism,
    });
  }

  async verify(hash: string, password: string): Promise<boolean> {
    if (isLegacyMd5(hash)) {
      const digest = createHash('md5').update(password, 'utf8').digest();
      const ok = timingSafeEqual(digest, Buffer.from(hash, 'hex'));
      // A legacy account must cost what an Argon2 account costs, or timing tells them apart.
      if (!ok) await this.burn(password);
      return ok;
    }
    if (!hash.startsWith('$argon2')) {
      await this.burn(password);
      return false;
    }
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  /** Whether a verified hash should be replaced (legacy scheme or weaker parameters than configured). */
  needsRehash(hash: string): boolean {
    if (isLegacyMd5(hash)) return true;
    return argon2.needsRehash(hash, {
      memoryCost: this.params.memoryCost,
      timeCost: this.params.timeCost,
      parallelism: this.params.parallelism,
    });
  }

  /** Spends one verification's worth of work, for unknown users and other early exits. */
  async burn(password: string): Promise<void> {
    this.dummyHash ??= this.hash(randomBytes(16).toString('hex'));
    await argon2.verify(await this.dummyHash, password).catch(() => false);
  }

  /** Computes the dummy hash up front so the first unknown-user login is not faster than the rest. */
  async warmUp(): Promise<void> {
    this.dummyHash ??= this.hash(randomBytes(16).toString('hex'));
    await this.dummyHash;
  }
}
