import { isIP } from 'node:net';
import type { Knex } from 'knex';
import { affected, isUniqueViolation } from '../storage/db';

export interface ClientThrottlePolicy {
  /** Failed logins one client address may cause per window; 0 turns throttling off. */
  maxFailures: number;
  windowSeconds: number;
}

/** What the login path needs from a throttle (see LoginService). */
export interface LoginThrottle {
  /** When the client may try again, or null when it is not throttled. */
  blockedUntil(clientIp: string | null, now: number): Promise<number | null>;
  recordFailure(clientIp: string | null, now: number): Promise<void>;
}

/**
 * The throttling key of an address: IPv4 as is, IPv6 by its /64 (one
 * customer's allocation, inside which an attacker picks addresses freely).
 * IPv4-mapped IPv6 (::ffff:192.0.2.1) counts as the IPv4 address.
 */
export function clientKey(ip: string): string | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  const kind = isIP(ip);
  if (kind === 4) return ip;
  if (kind !== 6) return null;
  const zoneless = ip.split('%')[0].toLowerCase();
  const [head, tail = ''] = zoneless.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const groups = zoneless.includes('::') ? [...headParts, ...Array(8 - headParts.length - tailParts.length).fill('0'), ...tailParts] : headParts;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * Failed-login counting per client address, shared by every instance through
 * the database. Like the per-account lockout, every write is one conditional
 * UPDATE evaluated by the database, so concurrent failures on any number of
 * instances add up exactly.
 */
export class ClientIpThrottle implements LoginThrottle {
  constructor(
    private readonly db: Knex,
    private readonly policy: () => ClientThrottlePolicy,
  ) {}

  async blockedUntil(clientIp: string | null, now: number): Promise<number | null> {
    const { maxFailures, windowSeconds } = this.policy();
    const key = clientIp === null ? null : clientKey(clientIp);
    if (maxFailures <= 0 || key === null) return null;
    const row = await this.db('client_ip_throttle').where({ client_key: key }).first('failure_count', 'window_start');
    if (!row) return null;
    const windowEnd = Number(row.window_start) + windowSeconds * 1000;
    return windowEnd > now && Number(row.failure_count) >= maxFailures ? windowEnd : null;
  }

  async recordFailure(clientIp: string | null, now: number): Promise<void> {
    const { maxFailures, windowSeconds } = this.policy();
    const key = clientIp === null ? null : clientKey(clientIp);
    if (maxFailures <= 0 || key === null) return;
    const windowOpenedBefore = now - windowSeconds * 1000;
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

  /** The current count for an address (tests, diagnostics). */
  async failures(clientIp: string, now: number): Promise<number> {
    const key = clientKey(clientIp);
    if (key === null) return 0;
    const row = await this.db('client_ip_throttle').where({ client_key: key }).first('failure_count', 'window_start');
    if (!row || Number(row.window_start) + this.policy().windowSeconds * 1000 <= now) return 0;
    return Number(row.failure_count);
  }

  /** Forgets windows that ended before `before`. */
  async purgeStale(before: number): Promise<number> {
    return affected(await this.db('client_ip_throttle').where('last_failure_at', '<', before).del());
  }
}
