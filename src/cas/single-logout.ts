import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { TICKET_PREFIX } from './constants';
import type { OutboundHttp } from './outbound-http';
import { checkServiceUrl } from './service-pattern';
import type { RegisteredService, ServiceRegistry } from './service-registry';
import type { NewParticipant, SingleLogoutStore } from './single-logout-store';
import { type StatementBatcher, writeBatcher } from '../storage/statement-batcher';
import { escapeXml } from './xml';

type SingleLogoutConfig = Config['cas']['singleLogout'];

const BATCH = 50;
// Participant rows outlive their session by this much before the janitor drops them.
const PARTICIPANT_GRACE_MS = 86_400_000;

/** The back-channel `logoutRequest` of CAS Appendix C; SessionIndex is the service ticket the service validated. */
export function logoutRequestXml(serviceTicket: string, now: number): string {
  const id = `${TICKET_PREFIX.logoutRequest}${randomBytes(16).toString('hex')}`;
  return (
    `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${new Date(now).toISOString()}">` +
    `<saml:NameID>@NOT_USED@</saml:NameID><samlp:SessionIndex>${escapeXml(serviceTicket)}</samlp:SessionIndex></samlp:LogoutRequest>`
  );
}

/**
 * Single logout. Services that validated a ticket are remembered per session
 * (one per service URL, with the ticket validated last); when the session
 * ends (logout, REST DELETE, expiry) one notification per service is queued
 * in the database and delivered in the background with a timeout and
 * exponential retry. Logout never waits for a service: the queue survives
 * restarts and any instance may deliver it.
 */
export class SingleLogout {
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<number> | null = null;
  private drainAgain = false;
  // Validations finishing in the same turn of the event loop record their participants with one statement.
  private readonly participants: StatementBatcher<NewParticipant, undefined>;

  constructor(
    private readonly store: SingleLogoutStore,
    private readonly registry: ServiceRegistry,
    private readonly http: OutboundHttp,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly config: () => SingleLogoutConfig,
  ) {
    this.participants = writeBatcher((rows) => this.store.addParticipants(rows));
  }

  /** Remembers that `service` holds a session from `ticketId` (called once the ticket was validated). */
  async recordParticipant(service: RegisteredService, tgtKey: string | null, serviceUrl: string, ticketId: string, sessionExpiresAt: number): Promise<void> {
    if (!this.config().enabled || service.logoutType === 'none' || tgtKey === null) return;
    await this.participants.run({ tgtKey, serviceId: service.id, serviceUrl, ticketId, createdAt: this.clock.now(), expiresAt: sessionExpiresAt });
  }

  /** Queues the notifications of an ended session and starts delivering them; never throws, never waits. */
  sessionEnded(tgtKey: string): void {
    void this.queue(tgtKey)
      .then((queued) => {
        if (queued > 0) this.kick();
      })
      .catch((error: unknown) => this.logger.error({ event: 'slo_queue_failed', err: (error as Error).message }, 'could not queue single-logout notifications'));
  }

  async queue(tgtKey: string): Promise<number> {
    const participants = await this.store.takeParticipants(tgtKey);
    if (participants.length === 0 || !this.config().enabled) return 0;
    const now = this.clock.now();
    const deliveries: { serviceId: number; url: string; body: string }[] = [];
    for (const p of participants) {
      const service = await this.registry.resolve(p.serviceId);
      if (!service || service.logoutType === 'none') continue;
      const url = service.logoutUrl ?? p.serviceUrl;
      if (!checkServiceUrl(url).ok) continue;
      deliveries.push({ serviceId: service.id, url, body: logoutRequestXml(p.ticketId, now) });
    }
    await this.store.enqueue(deliveries, now);
    return deliveries.length;
  }

  /** Starts a drain now unless one is running (which then runs once more). */
  kick(): void {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    void this.drain().catch((error: unknown) => this.logger.error({ event: 'slo_drain_failed', err: (error as Error).message }, 'single-logout delivery pass failed'));
  }

  /** Delivers every due notification once; returns how many were delivered. Concurrent calls share one pass. */
  drain(): Promise<number> {
    this.draining ??= (async () => {
      let delivered = 0;
      try {
        do {
          this.drainAgain = false;
          delivered += await this.pass();
        } while (this.drainAgain);
      } finally {
        this.draining = null;
      }
      return delivered;
    })();
    return this.draining;
  }

  private async pass(): Promise<number> {
    const now = this.clock.now();
    const { timeoutSeconds, maxAttempts, retryDelaySeconds } = this.config();
    const due = await this.store.due(now, BATCH);
    const results = await Promise.allSettled(
      due.map(async (d) => {
        // The claim outlasts the request's timeout, so a crashed instance's claim lapses and another retries.
        if (!(await this.store.claim(d, now, now + (timeoutSeconds + 30) * 1000))) return false;
        const attempt = d.attempts + 1;
        let failure: string;
        try {
          const res = await this.http.send(new URL(d.url), {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: `logoutRequest=${encodeURIComponent(d.body)}`,
            timeoutMs: timeoutSeconds * 1000,
          });
          if (res.status >= 200 && res.status < 300) {
            await this.store.complete(d.id);
            this.logger.info({ event: 'slo_delivered', url: d.url, attempt }, 'single-logout notification delivered');
            return true;
          }
          failure = `HTTP ${res.status}`;
        } catch (error) {
          failure = (error as Error).message;
        }
        if (attempt >= maxAttempts) {
          await this.store.complete(d.id);
          this.logger.warn({ event: 'slo_abandoned', url: d.url, attempts: attempt, error: failure }, 'single-logout notification abandoned');
        } else {
          await this.store.reschedule(d.id, this.clock.now() + retryDelaySeconds * 1000 * 2 ** (attempt - 1), failure);
          this.logger.warn({ event: 'slo_retry', url: d.url, attempt, error: failure }, 'single-logout notification failed; will retry');
        }
        return false;
      }),
    );
    await this.store.purgeParticipants(now - PARTICIPANT_GRACE_MS);
    return results.filter((r) => r.status === 'fulfilled' && r.value).length;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), this.config().workerIntervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer and waits for a pass in progress (bounded by the request timeout). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.draining?.catch(() => undefined);
  }
}
