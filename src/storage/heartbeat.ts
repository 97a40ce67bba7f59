import type { Knex } from 'knex';

/**
 * Rewrites the heartbeat row (migration 008): the smallest write every
 * instance can make, so readiness fails while writes fail. Throws the
 * driver's error (classified by storage-faults.ts).
 */
export async function writeHeartbeat(knex: Knex, instanceId: string, now: number): Promise<void> {
  await knex('heartbeat').where({ id: 1 }).update({ instance_id: instanceId.slice(0, 128), beat_at: now });
}
