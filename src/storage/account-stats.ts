import type { Knex } from 'knex';
import type { LockoutState } from './lockout-store';

/** Account counts for GET /api/v1/stats. */
export class AccountStats {
  constructor(private readonly db: Knex) {}

  private async count(query: Knex.QueryBuilder): Promise<number> {
    const [row] = await query.count<{ n: number | string }[]>({ n: '*' });
    return Number(row?.n ?? 0);
  }

  async counts(): Promise<{ total: number; enabled: number; mustChangePassword: number }> {
    const [total, enabled, mustChangePassword] = await Promise.all([
      this.count(this.db('accounts')),
      this.count(this.db('accounts').where({ enabled: true })),
      this.count(this.db('accounts').where({ must_change_password: true })),
    ]);
    return { total, enabled, mustChangePassword };
  }

  /**
   * The lockout counters of accounts (not of unknown names) whose lock runs
   * past `now`; whether each is a lock in force is the regulator's to say.
   */
  async lockStates(now: number): Promise<LockoutState[]> {
    const rows = await this.db('accounts as a')
      .join('lockout_state as l', 'l.username_key', 'a.username_key')
      .where('l.locked_until', '>', now)
      .select<{ failure_count: number | string; locked_until: number | string }[]>('l.failure_count', 'l.locked_until');
    return rows.map((row) => ({ failureCount: Number(row.failure_count), lockedUntil: Number(row.locked_until) }));
  }
}
