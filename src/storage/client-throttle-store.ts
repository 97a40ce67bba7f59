import type { Knex } from 'knex';
import { affected, isUniqueViolation } from './db';

/**
 * Failed-login counting per client-address key (see src/policy/client-address.ts),
 * shared by every instance through the database. Like the per-account lockout,
 * every write is one conditional UPDATE evaluated by the database, so
 * concurrent failures on any number of instances add up exactly. The policy
 * (limits, windows) is the regulator's: every method takes it as arguments.
 */
export class ClientThrottleStore {
  constructor(private readonly db: Knex) {}

  /** The end of the key's current window, or null when it has no window open at `now`; with its count. */
  async window(key: string, now: number, windowMs: number): Promise<{ failures: number; endsAt: number } | null> {
    const row = await this.db('client_ip_throttle').where({ client_key: key }).first('failure_count', 'window_start');
    if (!row) return null;
    const endsAt = Number(row.window_start) + windowMs;
    return endsAt > now ? { failures: Number(row.failure_count), endsAt } : null;
  }

  async recordFailure(key: string, now: number, windowMs: number): Promise<void> {
    const windowOpenedBefore = now - windowMs;
    // CASTs: PostgreSQL would otherwise infer the parameters' types from context (text in THEN).
    const update = () =>
      this.db('client_ip_throttle')
        .where({ client_key: key })
        .update({
          // Both SET expressions read the row as it was before the statement.
          failure_count: this.db.raw('CASE WHEN window_start <= CAST(? AS BIGINT) THEN 1 ELSE failure_count + 1 END', [windowOpenedBefore]),
          window_start: this.db.raw('CASE WHEN window_start <= CAST(? AS BIGINT) THEN CAST(? AS BIGINT) ELSE window_start END', [windowOpenedBefore, now]),
          last_failure_at: now,
        });
    if (affected(await update()) > 0) return;
    try {
      await this.db('client_ip_throttle').insert({ client_key: key, failure_count: 1, window_start: now, last_failure_at: now });
    } catch (error) {
      // Another instance inserted the row first: count this failure on it.
      if (!isUniqueViolation(error)) throw error;
      await update();
    }
  }

  /** Forgets windows that ended before `before`. */
  async purgeStale(before: number): Promise<number> {
    return affected(await this.db('client_ip_throttle').where('last_failure_at', '<', before).del());
  }
}
