// Named job leases (table job_leases): which instance runs a shared background job until when.
import type { Knex } from 'knex';
import type { JobLeaseStore } from '../ops/job-leases';
import { affected, isUniqueViolation } from './db';

/**
 * Taking a lease is one conditional UPDATE (or the INSERT of its first row),
 * so the database decides the winner among any number of instances.
 */
export class KnexJobLeaseStore implements JobLeaseStore {
  constructor(private readonly db: Knex) {}

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

  async release(name: string, holder: string): Promise<void> {
    await this.db('job_leases').where({ name, holder }).update({ expires_at: 0 });
  }

  async holder(name: string, now: number): Promise<string | null> {
    const row = await this.db('job_leases').where({ name }).andWhere('expires_at', '>', now).first('holder');
    return row ? String(row.holder) : null;
  }
}
