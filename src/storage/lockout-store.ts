import type { Knex } from 'knex';
import { affected, isUniqueViolation } from './db';

export interface LockoutState {
  failureCount: number;
  lockedUntil: number | null;
}

function toState(row: { failure_count: number | string; locked_until: number | string | null }): LockoutState {
  return { failureCount: Number(row.failure_count), lockedUntil: row.locked_until === null ? null : Number(row.locked_until) };
}

/**
 * Failure counters per username key. Every write is one conditional UPDATE
 * evaluated by the database, so concurrent failures add up exactly.
 */
export class LockoutStore {
  constructor(private readonly db: Knex) {}

  async get(usernameKey: string): Promise<LockoutState> {
    const row = await this.db('lockout_state').where({ username_key: usernameKey }).first();
    return row ? toState(row) : { failureCount: 0, lockedUntil: null };
  }

  /**
   * Counts one failure. When the count reaches `maxFailures` (> 0) the name is
   * locked until `now + lockMs`. A lock that has run out starts a fresh count.
   */
  async recordFailure(usernameKey: string, now: number, maxFailures: number, lockMs: number): Promise<LockoutState> {
    const until = now + lockMs;
    const lockAt = maxFailures > 0 ? maxFailures : null;
    // Every parameter is CAST: PostgreSQL infers an untyped parameter from its context,
    // and in `CASE ... THEN $n ELSE NULL` or `$n <= 1` that context is text or int4, not bigint.
    const bigint = 'CAST(? AS BIGINT)';
    const lockOnFirstFailure = lockAt !== null && lockAt <= 1;
    const update = () =>
      this.db('lockout_state')
        .where({ username_key: usernameKey })
        .update({
          // SET expressions all read the row as it was before this statement.
          failure_count: this.db.raw(`CASE WHEN locked_until IS NOT NULL AND locked_until <= ${bigint} THEN 1 ELSE failure_count + 1 END`, [now]),
          locked_until: this.db.raw(
            `CASE
               WHEN locked_until IS NOT NULL AND locked_until <= ${bigint} THEN ${lockOnFirstFailure ? bigint : 'NULL'}
               WHEN locked_until IS NOT NULL THEN locked_until
               ${lockAt !== null ? `WHEN failure_count + 1 >= ${bigint} THEN ${bigint}` : ''}
               ELSE NULL END`,
            [now, ...(lockOnFirstFailure ? [until] : []), ...(lockAt !== null ? [lockAt, until] : [])],
          ),
          last_failure_at: now,
          // The state this statement wrote (RETURNING / OUTPUT inserted.*): a later read could
          // already include other requests' failures, and exactly one request must see the count reach the limit.
        }, ['failure_count', 'locked_until']);
    const [updated] = await update();
    if (updated) return toState(updated);
    try {
      const first = { failure_count: 1, locked_until: lockOnFirstFailure ? until : null };
      await this.db('lockout_state').insert({ username_key: usernameKey, ...first, last_failure_at: now });
      return toState(first);
    } catch (error) {
      // Another request inserted the row first: count this failure on it.
      if (!isUniqueViolation(error)) throw error;
      const [row] = await update();
      return toState(row);
    }
  }

  async reset(usernameKey: string): Promise<void> {
    await this.db('lockout_state').where({ username_key: usernameKey }).del();
  }

  /** Forgets counters nobody has touched since `before` (no lock in force). */
  async purgeStale(before: number, now: number): Promise<number> {
    return affected(
      await this.db('lockout_state')
        .where('last_failure_at', '<', before)
        .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<=', now))
        .del(),
    );
  }
}
