import type { Knex } from 'knex';
import type { HealthStore } from '../ops/health';
import { migrationsCurrent } from './db';

/** The readiness probes' database side (src/ops/health.ts). */
export class KnexHealthStore implements HealthStore {
  constructor(private readonly knex: Knex) {}

  /**
   * Rewrites the heartbeat row (migration 008): the smallest write every
   * instance can make, so readiness fails while writes fail. Throws the
   * driver's error (classified by storage-faults.ts).
   */
  async writeHeartbeat(instanceId: string, now: number): Promise<void> {
    await this.knex('heartbeat').where({ id: 1 }).update({ instance_id: instanceId.slice(0, 128), beat_at: now });
  }

  migrationsCurrent(): Promise<boolean> {
    return migrationsCurrent(this.knex);
  }
}
