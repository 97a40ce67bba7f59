import type { Knex } from 'knex';
import { affected, isUniqueViolation } from '../storage/db';

/**
 * Named leases in the shared database, so a background job that every
 * instance schedules runs on one instance at a time. Taking a lease is one
 * conditional UPDATE (or the INSERT of its first row): the database decides
 * the winner, whatever the number of instances.
 */
export class JobLeases {
  constructor(private readonly db: Knex) {}

  /**
   * Takes or renews the lease `name` for `holder` until `now + ttlMs`.
   * Succeeds when the lease is free, expired, or already held by `holder`.
   */
  async tryAcquire(name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    const expiresAt = now + ttlMs;
    const taken = await this.db('job_leases')
      .where({ name })
      .andWhere((q) => q.where('expires_at', '<=', now).orWhere({ holder }))
      .update({ holder, acquired_at: now, expires_at: expiresAt });
    if (affected(taken) === 1) return true;
    try {
      await this.db('job_leases').insert({ name, holder, acquired_at: now, expires_at: expiresAt });
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  /** Gives the lease up early (on shutdown), if `holder` still has it. */
  async release(name: string, holder: string): Promise<void> {
    await this.db('job_leases').where({ name, holder }).update({ expires_at: 0 });
  }

  async holder(name: string, now: number): Promise<string | null> {
    const row = await this.db('job_leases').where({ name }).andWhere('expires_at', '>', now).first('holder');
    return row ? String(row.holder) : null;
  }
}
