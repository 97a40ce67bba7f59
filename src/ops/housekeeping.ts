import type { Services } from '../services';

export const HOUSEKEEPING_JOB = 'housekeeping';

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
export async function runHousekeeping(services: Services, holder: string): Promise<HousekeepingRun> {
  const intervalMs = services.config.tickets.purgeIntervalSeconds * 1000;
  const started = services.clock.now();
  // Twice the interval: the holder renews it every run; a dead holder's lease lapses after two.
  if (!(await services.leases.tryAcquire(HOUSEKEEPING_JOB, holder, started, 2 * intervalMs))) {
    services.metrics.jobRun(HOUSEKEEPING_JOB, 'skipped');
    return { ran: false, ticketsPurged: 0, accountsDisabled: 0 };
  }
  try {
    const now = services.clock.now();
    const { count, expiredSessions } = await services.tickets.deleteExpired(now, 5000);
    for (const session of expiredSessions) services.servicePort.sessionEnded(session, null);
    const lockoutMs = services.policy.get().lockout.userLockoutTimeout * 1000;
    await services.lockouts.purgeStale(now - Math.max(lockoutMs, 86_400_000), now);
    await services.clientThrottles.purgeStale(now - Math.max(services.config.ops.clientThrottle.windowSeconds * 1000, 86_400_000));
    const disabled = await services.accountService.disableInactiveAccounts();
    services.metrics.jobRun(HOUSEKEEPING_JOB, 'ran');
    if (count > 0 || disabled > 0) services.logger.info({ event: 'housekeeping', holder, ticketsPurged: count, accountsDisabled: disabled }, 'housekeeping');
    return { ran: true, ticketsPurged: count, accountsDisabled: disabled };
  } catch (error) {
    services.metrics.jobRun(HOUSEKEEPING_JOB, 'failed');
    throw error;
  }
}
