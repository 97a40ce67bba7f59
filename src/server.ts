import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createApp, healthDeps } from './app';
import type { LoadedConfig } from './config/load';
import { type Services, buildServices } from './services';
import { migrateToLatest, openDatabase } from './storage/db';
import { type TlsMaterial, certificateCovers, loadOrCreateTls, reloadTlsOnHangup } from './http/tls';
import { type DatabaseLock, lockSqliteDatabase } from './storage/data-dir-lock';
import { expressServerClasses } from './http/express-server';
import { listeningUrl } from './http/public-url';
import { applyConnectionLimits, timeoutOptions } from './http/connection-limits';
import type { Logger } from './shared/logger';
import { ConfigError, UnavailableError } from './shared/errors';
import { HOUSEKEEPING_JOB, runHousekeeping } from './ops/housekeeping';
import { type OpsServer, startOpsServer } from './ops/ops-server';
import { warmUpStrengthEstimator } from './policy/strength';
import { VERSION } from './shared/version';

export interface RunningServer {
  services: Services;
  server: https.Server;
  port: number;
  url: string;
  /** The separate health/metrics listener, when `ops.port` is set. */
  ops?: OpsServer;
  /** Stops accepting, waits (bounded) for in-flight requests, closes the pool. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Where the human-readable startup lines go (default: stdout). */
  print?: (line: string) => void;
  logger?: Logger;
}

/** Periodic housekeeping on every instance; a lease in the database lets one of them do it (src/ops/housekeeping.ts). */
function startHousekeeping(services: Services): () => void {
  const run = async () => {
    try {
      await runHousekeeping(services, services.instanceId);
    } catch (error) {
      services.logger.warn({ event: 'housekeeping_failed', err: (error as Error).message }, 'housekeeping failed');
    }
  };
  const timer = setInterval(run, services.config.tickets.purgeIntervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Each backend's startup check, before listening. A directory that is merely
 * down does not stop the start (sign-ins through it fail closed until it is
 * back); any other failure does, naming the backend.
 */
async function checkBackends(services: Services, print: (line: string) => void): Promise<void> {
  const problems: string[] = [];
  for (const [index, backend] of services.backends.entries()) {
    try {
      await backend.startupCheck();
    } catch (error) {
      const label = `backend "${backend.name}" (authentication.backends.${index})`;
      if (error instanceof UnavailableError) print(`  warning: ${label} is unreachable now: ${error.message}; sign-ins through it fail until it is back`);
      else problems.push(`${label}: startup check failed: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** The startup banner; the bootstrap password goes straight to the terminal, never through the logger. */
function printBanner(print: (line: string) => void, facts: { url: string; services: Services; loaded: LoadedConfig; ops?: OpsServer; tls: TlsMaterial; lock: DatabaseLock | null }): void {
  const { url, services, loaded, ops, tls, lock } = facts;
  print(`Portcullis listening on ${url}/cas/login (TLS ${loaded.config.server.tls.minVersion}+)`);
  print(`  version: ${VERSION} (Node.js ${process.versions.node})`);
  print(`  database: ${services.db.description}`);
  if (lock) print(`  lock file: ${lock.path}${lock.staleFrom !== null ? ` (taken over from pid ${lock.staleFrom}, no longer running)` : ''}`);
  print(`  health and metrics: ${ops ? `${ops.url}/health/ready, ${ops.url}/metrics` : `${url}/health/ready, ${url}/metrics`}`);
  print(`  config files: ${loaded.files.length > 0 ? loaded.files.join(', ') : `(none in ${loaded.configDir}; built-in defaults)`}`);
  print(`  certificate: ${tls.source}${tls.generated ? ' (self-signed, generated now)' : ''}`);
  print(`  certificate SHA-256 fingerprint: ${tls.fingerprint}`);
  const publicHost = loaded.config.server.publicUrl ? new URL(loaded.config.server.publicUrl).hostname : undefined;
  if (publicHost && !certificateCovers(tls.cert, publicHost)) {
    // Browsers and CAS clients will refuse the certificate at that address.
    print(`  WARNING: the certificate is not valid for ${publicHost} (server.publicUrl): clients will refuse it`);
    services.logger.warn({ event: 'certificate_host_mismatch', publicHost, certificate: tls.source }, `the certificate is not valid for ${publicHost} (server.publicUrl)`);
  }
  const lockout = services.policy.get().lockout;
  const filter = services.breachedFilter.info();
  print(`  breached-password filter: ${filter ? `${filter.file}: ${filter.entries} entries from ${filter.source}, ${filter.createdAt}` : `none (${services.breachedFilter.file} not found)`}`);
  print(`  lockout: ${lockout.maxAllowedLoginFailureCount} failures -> locked ${lockout.userLockoutTimeout} s; max administrators ${services.policy.get().administrators.maxAdministratorCount}`);
}

/** The one-time password of a bootstrap administrator created now, and how to recover any administrator who never signed in. */
function printAdministrators(print: (line: string) => void, bootstrap: { username: string; password: string } | null, neverSignedIn: string[]): void {
  if (bootstrap) {
    print('');
    print(`  Bootstrap administrator created: username "${bootstrap.username}", one-time password: ${bootstrap.password}`);
    print('  This password is shown only now. It must be changed at the first sign-in.');
  }
  for (const username of neverSignedIn) {
    if (!bootstrap) print('');
    print(`  Administrator "${username}" has never signed in. If its password is lost, set a new one with:`);
    print(`    portcullis user passwd ${username} --password-stdin`);
  }
  if (bootstrap || neverSignedIn.length > 0) print('');
}

export async function startServer(loaded: LoadedConfig, options: StartOptions = {}): Promise<RunningServer> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const lock = lockSqliteDatabase(loaded.config.database, loaded.dataDir);
  let services: Services | undefined;
  let server: https.Server | undefined;
  try {
    services = await buildServicesAfterMigration(loaded, options.logger);
    await checkBackends(services, print);
    await services.hasher.warmUp();
    warmUpStrengthEstimator();
    const tls = await loadOrCreateTls(loaded.config.server.tls, loaded.dataDir);
    const app = createApp(services);
    const limits = loaded.config.server;
    server = https.createServer({ cert: tls.cert, key: tls.key, minVersion: limits.tls.minVersion, ...timeoutOptions(limits), ...expressServerClasses(app) }, app);
    const trustsProxy = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
    const metrics = services.metrics;
    applyConnectionLimits(server, limits, (address) => trustsProxy(address, 0), () => metrics.connectionRefused());
    await listen(server, loaded.config.server.port, loaded.config.server.host);
    const opsConfig = loaded.config.ops;
    const ops = opsConfig.port === undefined ? undefined : await startOpsServer({ ...healthDeps(services), logger: services.logger }, opsConfig.host, opsConfig.port, opsConfig.metrics);
    // Only now that the service answers: a start that failed earlier (port taken, certificate missing) must not use up the one-time password.
    const bootstrap = await services.accountService.ensureBootstrapAdministrator();
    const neverSignedIn = (await services.accountService.administratorsNeverSignedIn()).filter((name) => name !== bootstrap?.username);
    return running(loaded, { services, server, ops, tls, lock, print, bootstrap, neverSignedIn });
  } catch (error) {
    server?.close();
    await services?.close().catch(() => undefined);
    lock?.release();
    throw error;
  }
}

function listen(server: https.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

interface Started {
  services: Services;
  server: https.Server;
  ops?: OpsServer;
  tls: TlsMaterial;
  lock: DatabaseLock | null;
  print: (line: string) => void;
  bootstrap: { username: string; password: string } | null;
  neverSignedIn: string[];
}

function running(loaded: LoadedConfig, started: Started): RunningServer {
  const { services, server, ops, tls, lock, print } = started;
  const port = (server.address() as AddressInfo).port;
  const url = listeningUrl(loaded.config.server.host, port);
  services.publicUrl.listeningAt(url);
  const stopWatching = services.policy.watch(loaded.configDir);
  const stopTlsReload = reloadTlsOnHangup(server, loaded.config.server.tls, loaded.dataDir, services.logger);
  const stopFilterWatch = services.breachedFilter.watch();
  const stopHousekeeping = startHousekeeping(services);
  printBanner(print, { url, services, loaded, ops, tls, lock });
  printAdministrators(print, started.bootstrap, started.neverSignedIn);
  services.logger.info({ event: 'started', url, database: services.db.description, configFiles: loaded.files }, 'started');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      stopWatching();
      stopTlsReload();
      stopFilterWatch();
      stopHousekeeping();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections become idle when their in-flight request ends: close those as they do.
      server.closeIdleConnections();
      const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
      const grace = new Promise<void>((resolve) => setTimeout(resolve, loaded.config.server.shutdownGraceSeconds * 1000).unref());
      await Promise.race([closed, grace]);
      clearInterval(closeIdle);
      server.closeAllConnections();
      await ops?.close();
      await services.leases.release(HOUSEKEEPING_JOB, services.instanceId).catch(() => undefined);
      await services.close();
      lock?.release();
    })());
  return { services, server, port, url, ops, stop };
}

export async function buildServicesAfterMigration(loaded: LoadedConfig, logger?: Logger): Promise<Services> {
  const db = openDatabase(loaded.config.database, loaded.dataDir);
  try {
    await migrateToLatest(db.knex);
  } finally {
    await db.knex.destroy();
  }
  return buildServices(loaded, { logger });
}
