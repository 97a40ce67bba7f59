import { type Request, type Response, Router } from 'express';
import type { AuthenticationBackend } from '../authn/backend';
import { storageFault } from '../storage/storage-faults';
import type { Metrics } from './metrics';

/** The database as readiness probes it (src/storage/heartbeat.ts). */
export interface HealthStore {
  /** Rewrites this instance's heartbeat row; throws the driver's error when the database takes no write. */
  writeHeartbeat(instanceId: string, now: number): Promise<void>;
  /** True when every known migration has been applied. */
  migrationsCurrent(): Promise<boolean>;
}

export interface HealthDeps {
  store: HealthStore;
  /** Written into the heartbeat row by the database check. */
  instanceId: string;
  backends: readonly AuthenticationBackend[];
  metrics: Metrics;
}

export interface CheckResult {
  ok: boolean;
  ms: number;
  /** Why it failed; only shown on the separate ops port (it can name internal hosts). */
  error?: string;
}

const CHECK_TIMEOUT_MS = 5000;

async function timed(work: () => Promise<unknown>): Promise<CheckResult> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    const result = await Promise.race([work(), timeout]);
    if (result === false) return { ok: false, ms: Date.now() - started, error: 'not current' };
    return { ok: true, ms: Date.now() - started };
  } catch (error) {
    const fault = storageFault(error);
    const message = `${fault ? `${fault.reason}: ` : ''}${(error as Error).message}`;
    return { ok: false, ms: Date.now() - started, error: message.slice(0, 300) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Readiness: the shared database accepts a write (the heartbeat row: a
 * database that is full or read-only answers reads), its schema is at the latest
 * migration, and every configured authentication backend passes its startup
 * check (directories reachable). Checks run in parallel, each bounded.
 */
export async function readiness(deps: HealthDeps): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
  const entries: [string, () => Promise<unknown>][] = [
    ['database', () => deps.store.writeHeartbeat(deps.instanceId, Date.now())],
    ['migrations', () => deps.store.migrationsCurrent()],
    ...deps.backends.map((b): [string, () => Promise<unknown>] => [`backend:${b.name}`, () => b.startupCheck()]),
  ];
  const results = await Promise.all(entries.map(async ([name, work]) => [name, await timed(work)] as const));
  const checks = Object.fromEntries(results);
  return { ready: results.every(([, r]) => r.ok), checks };
}

/**
 * GET /health/live (the process answers), /health/ready (see `readiness`)
 * and /metrics (Prometheus text format). `detailed` adds failure messages.
 */
export function opsRoutes(deps: HealthDeps, options: { detailed: boolean; metrics: boolean; authorizeMetrics?: (req: Request, res: Response) => Promise<void> }): Router {
  const router = Router();
  router.get('/health/live', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'live' });
  });
  router.get('/health/ready', async (_req, res) => {
    const { ready, checks } = await readiness(deps);
    const shown = options.detailed ? checks : Object.fromEntries(Object.entries(checks).map(([name, r]) => [name, { ok: r.ok, ms: r.ms }]));
    res.status(ready ? 200 : 503).set('Cache-Control', 'no-store').json({ status: ready ? 'ready' : 'not_ready', checks: shown });
  });
  if (options.metrics) {
    router.get('/metrics', async (req, res) => {
      // On the public HTTPS port only administrators see them (throws 401/403); the ops port is private by placement.
      await options.authorizeMetrics?.(req, res);
      const { contentType, body } = await deps.metrics.render();
      res.set('Cache-Control', 'no-store').type(contentType).send(body);
    });
  }
  return router;
}
