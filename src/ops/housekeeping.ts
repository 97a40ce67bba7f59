import type { AccountService } from '../accounts/account-service';
import type { Config } from '../config/schema';
import type { LivePolicySource } from '../config/live-policy';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { TicketRegistry } from '../tickets/registry';
import type { ServicePort } from '../cas/login/service-port';
import type { Metrics } from './metrics';

export const HOUSEKEEPING_JOB = 'housekeeping';

/** What housekeeping uses; the composition root passes its services, which have all of it. */
export interface HousekeepingDeps {
  config: { tickets: Pick<Config['tickets'], 'purgeIntervalSeconds'>; ops: { clientThrottle: Pick<Config['ops']['clientThrottle'], 'windowSeconds'> } };
  clock: Clock;
  /** The job leases shared by every instance: false when another holder has `name`. */
  leases: { tryAcquire(name: string, holder: string, now: number, ttlMs: number): Promise<boolean> };
  metrics: Pick<Metrics, 'jobRun'>;
  logger: Pick<Logger, 'info'>;
  policy: Pick<LivePolicySource, 'get'>;
  tickets: Pick<TicketRegistry, 'deleteExpired'>;
  /** Expired sessions end like any other (single logout). */
  servicePort: Pick<ServicePort, 'sessionEnded'>;
  lockouts: { purgeStale(before: number, now: number): Promise<number> };
  clientThrottles: { purgeStale(before: number): Promise<number> };
  accountService: Pick<AccountService, 'disableInactiveAccounts'>;
}

export interface HousekeepingRun {
  /** False when another instance holds the lease (it does the work). */
  ran: boolean;
  ticketsPurged: number;
  accountsDisabled: number;
}

/**
 * Periodic housekeeping: expired tickets (ending their sessions), stale
 * lockout and throttle counters, inactive accounts. Every instance schedules
 * it; the `housekeeping` lease makes one instance at a time do it, so expired
 * sessions are reported (single logout) once, not once per instance. Each
 * statement is also safe on its own (conditional updates), should a lease
 * ever lapse mid-run.
 */
export async function runHousekeeping(deps: HousekeepingDeps, holder: string): Promise<HousekeepingRun> {
  const intervalMs = deps.config.tickets.purgeIntervalSeconds * 1000;
  const started = deps.clock.now();
  // Twice the interval: the holder renews it every run; a dead holder's lease lapses after two.
  if (!(await deps.leases.tryAcquire(HOUSEKEEPING_JOB, holder, started, 2 * intervalMs))) {
    deps.metrics.jobRun(HOUSEKEEPING_JOB, 'skipped');
    return { ran: false, ticketsPurged: 0, accountsDisabled: 0 };
  }
  try {
    const now = deps.clock.now();
    const { count, expiredSessions } = await deps.tickets.deleteExpired(now, 5000);
    for (const session of expiredSessions) deps.servicePort.sessionEnded(session, null);
    const lockoutMs = deps.policy.get().lockout.userLockoutTimeout * 1000;
    await deps.lockouts.purgeStale(now - Math.max(lockoutMs, 86_400_000), now);
    await deps.clientThrottles.purgeStale(now - Math.max(deps.config.ops.clientThrottle.windowSeconds * 1000, 86_400_000));
    const disabled = await deps.accountService.disableInactiveAccounts();
    deps.metrics.jobRun(HOUSEKEEPING_JOB, 'ran');
    if (count > 0 || disabled > 0) deps.logger.info({ event: 'housekeeping', holder, ticketsPurged: count, accountsDisabled: disabled }, 'housekeeping');
    return { ran: true, ticketsPurged: count, accountsDisabled: disabled };
  } catch (error) {
    deps.metrics.jobRun(HOUSEKEEPING_JOB, 'failed');
    throw error;
  }
}
