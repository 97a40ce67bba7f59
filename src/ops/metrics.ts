import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditEvent } from '../storage/audit-log';
import { VERSION } from '../shared/version';

/**
 * What the CAS protocol code reports. Ticket issuing is counted by the ticket
 * registry itself (see MeteredTicketRegistry); validation outcomes and timing
 * are known only to the validation endpoints, which call `ticketValidated`.
 */
export interface CasMetrics {
  /** One validation request: endpoint ("serviceValidate", "p3/proxyValidate", "samlValidate"...), outcome, seconds taken. */
  ticketValidated(endpoint: string, outcome: 'success' | 'failure', seconds: number): void;
}

/** Label for login outcomes: the audit reason of a failure, or "success". */
function loginOutcome(event: AuditEvent): string {
  if (event.outcome === 'success') return 'success';
  const reason = event.details?.reason;
  return typeof reason === 'string' && /^[a-z_]{1,40}$/.test(reason) ? reason : 'failure';
}

/**
 * Prometheus metrics of one Portcullis process, on a registry of its own (so
 * several services in one process, as in tests, do not collide). Values are
 * per instance; Prometheus sums them across instances.
 */
export class Metrics implements CasMetrics {
  readonly registry = new Registry();
  private readonly logins: Counter<'backend' | 'outcome'>;
  private readonly lockouts: Counter;
  private readonly throttled: Counter;
  private readonly connectionsRefused: Counter;
  private readonly ticketsIssued: Counter<'kind'>;
  private readonly validations: Counter<'endpoint' | 'outcome'>;
  private readonly validationSeconds: Histogram<'endpoint'>;
  private readonly httpSeconds: Histogram<'method' | 'route' | 'status'>;
  private readonly jobRuns: Counter<'job' | 'outcome'>;
  private readonly mfaAttempts: Counter<'factor' | 'outcome'>;

  constructor(options: { activeSessions?: () => Promise<number>; defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ service: 'portcullis' });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_' });
    this.logins = new Counter({ name: 'portcullis_logins_total', help: 'Login attempts by authentication backend and outcome (success or failure reason).', labelNames: ['backend', 'outcome'], registers });
    this.lockouts = new Counter({ name: 'portcullis_lockouts_total', help: 'Names locked by the NEC lockout policy (MaxAllowedLoginFailureCount reached).', registers });
    this.throttled = new Counter({ name: 'portcullis_client_throttled_total', help: 'Login attempts refused because the client address had too many failures.', registers });
    this.connectionsRefused = new Counter({ name: 'portcullis_connections_refused_total', help: 'Connections closed at once because their client address held server.maxConnectionsPerClient already.', registers });
    this.ticketsIssued = new Counter({ name: 'portcullis_tickets_issued_total', help: 'CAS tickets issued, by kind (TGT, ST, PT, PGT).', labelNames: ['kind'], registers });
    this.validations = new Counter({ name: 'portcullis_ticket_validations_total', help: 'CAS ticket validations by endpoint and outcome.', labelNames: ['endpoint', 'outcome'], registers });
    this.validationSeconds = new Histogram({
      name: 'portcullis_ticket_validation_seconds',
      help: 'Time to answer a CAS ticket validation.',
      labelNames: ['endpoint'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.httpSeconds = new Histogram({
      name: 'portcullis_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.mfaAttempts = new Counter({ name: 'portcullis_mfa_attempts_total', help: 'Second-factor checks by factor and outcome.', labelNames: ['factor', 'outcome'], registers });
    this.jobRuns = new Counter({ name: 'portcullis_background_job_runs_total', help: 'Background job runs on this instance (skipped = another instance holds the lease).', labelNames: ['job', 'outcome'], registers });
    new Gauge({ name: 'portcullis_build_info', help: 'Always 1; the version label names the Portcullis release running.', labelNames: ['version'], registers }).set({ version: VERSION }, 1);
    const activeSessions = options.activeSessions;
    if (activeSessions) {
      new Gauge({
        name: 'portcullis_active_tgts',
        help: 'Live single sign-on sessions (ticket-granting tickets) in the shared database.',
        registers,
        async collect() {
          this.set(await activeSessions());
        },
      });
    }
  }

  /** Audit events carry every login outcome from every front door: count them here. */
  mfaAttempt(factor: string, outcome: string): void {
    this.mfaAttempts.inc({ factor, outcome });
  }

  observeAudit(event: AuditEvent): void {
    if (event.event === 'login') {
      this.logins.inc({ backend: event.backend ?? 'none', outcome: loginOutcome(event) });
      if (event.details?.reason === 'client_throttled') this.throttled.inc();
    } else if (event.event === 'account_locked') {
      this.lockouts.inc();
    }
  }

  connectionRefused(): void {
    this.connectionsRefused.inc();
  }

  ticketIssued(kind: string): void {
    this.ticketsIssued.inc({ kind });
  }

  ticketValidated(endpoint: string, outcome: 'success' | 'failure', seconds: number): void {
    this.validations.inc({ endpoint, outcome });
    this.validationSeconds.observe({ endpoint }, seconds);
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpSeconds.observe({ method, route, status: String(status) }, seconds);
  }

  jobRun(job: string, outcome: 'ran' | 'skipped' | 'failed'): void {
    this.jobRuns.inc({ job, outcome });
  }

  /** The text exposition format. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
