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
 * evaluated by the database, so concurrent attempts add up exactly. The lock
 * rule itself (when a state means "locked") is src/policy/regulator.ts's.
 */
export class LockoutStore {
  constructor(private readonly db: Knex) {}

  async get(usernameKey: string): Promise<LockoutState> {
    const row = await this.db('lockout_state').where({ username_key: usernameKey }).first();
    return row ? toState(row) : { failureCount: 0, lockedUntil: null };
  }

  /**
   * Claims a place for one attempt that is about to check a secret, before it
   * is checked: the attempt counts as a failure from now on, and the claim that
   * brings the count to `maxFailures` (> 0) locks the name until `now + lockMs`
   * at once. A name that is locked, or whose places are all taken by attempts
   * in flight, gets no claim. So however many attempts run in parallel, on any
   * number of instances, at most `maxFailures` secrets are checked per name
   * between two resets or lock expiries. A lock that has run out starts a fresh
   * count. Returns the state this claim wrote, or `null` when refused.
   */
  async claim(usernameKey: string, now: number, maxFailures: number, lockMs: number): Promise<LockoutState | null> {
    const until = now + lockMs;
    // Every parameter is CAST: PostgreSQL infers an untyped parameter from its context,
    // and in `CASE ... THEN $n ELSE NULL` or `$n <= 1` that context is text or int4, not bigint.
    const bigint = 'CAST(? AS BIGINT)';
    // A fresh count starts when the lock has run out, or when a count left at the limit without a
    // lock (the limit was lowered by a policy reload) has not moved for a lock period.
    const fresh = {
      sql: `((locked_until IS NOT NULL AND locked_until <= ${bigint}) OR (locked_until IS NULL AND failure_count >= ${bigint} AND last_failure_at <= ${bigint}))`,
      bindings: [now, maxFailures, now - lockMs],
    };
    const nextCount = { sql: `CASE WHEN ${fresh.sql} THEN 1 ELSE failure_count + 1 END`, bindings: fresh.bindings };
    const update = () =>
      this.db('lockout_state')
        .where({ username_key: usernameKey })
        // Free: not locked and a place left, or a fresh count.
        .andWhereRaw(`((locked_until IS NULL AND failure_count < ${bigint}) OR ${fresh.sql})`, [maxFailures, ...fresh.bindings])
        .update({
          // SET expressions all read the row as it was before this statement.
          failure_count: this.db.raw(nextCount.sql, nextCount.bindings),
          locked_until: this.db.raw(`CASE WHEN (${nextCount.sql}) >= ${bigint} THEN ${bigint} ELSE NULL END`, [...nextCount.bindings, maxFailures, until]),
          last_failure_at: now,
          // The state this statement wrote (RETURNING / OUTPUT inserted.*): exactly one claim sees the count reach the limit.
        }, ['failure_count', 'locked_until']);
    const [claimed] = await update();
    if (claimed) return toState(claimed);
    try {
      const first = { failure_count: 1, locked_until: maxFailures <= 1 ? until : null };
      await this.db('lockout_state').insert({ username_key: usernameKey, ...first, last_failure_at: now });
      return toState(first);
    } catch (error) {
      // The row exists: locked or full (refused), or another attempt inserted it first (claim a place on it).
      if (!isUniqueViolation(error)) throw error;
      const [again] = await update();
      return again ? toState(again) : null;
    }
  }

  /**
   * Gives back a place claimed by an attempt that ended without a verdict on
   * the secret (the directory could not be reached). Only while the count is
   * still the one the claim joined: unlocked, or locked by this very claim.
   */
  async release(usernameKey: string, claimed: LockoutState): Promise<void> {
    await this.db('lockout_state')
      .where({ username_key: usernameKey })
      .andWhere('failure_count', '>', 0)
      .andWhere((q) => (claimed.lockedUntil === null ? q.whereNull('locked_until') : q.where('locked_until', claimed.lockedUntil)))
      .update({ failure_count: this.db.raw('failure_count - 1'), locked_until: null });
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
