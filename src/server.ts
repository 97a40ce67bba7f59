import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import type { LoadedConfig } from './config/load';
import { type Services, buildServices } from './services';
import { migrateToLatest, openDatabase } from './storage/db';
import { loadOrCreateTls } from './http/tls';
import { listeningUrl } from './http/public-url';
import { expressServerClasses } from './http/express-server';
import type { Logger } from './shared/logger';
import { ConfigError, UnavailableError } from './shared/errors';
import { HOUSEKEEPING_JOB, runHousekeeping } from './ops/housekeeping';
import { type OpsServer, startOpsServer } from './ops/ops-server';

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

export async function startServer(loaded: LoadedConfig, options: StartOptions = {}): Promise<RunningServer> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const services = await buildServicesAfterMigration(loaded, options.logger);
  try {
    await checkBackends(services, print);
  } catch (error) {
    await services.close();
    throw error;
  }
  const bootstrap = await services.accountService.ensureBootstrapAdministrator();
  await services.hasher.warmUp();
  const tls = await loadOrCreateTls(loaded.config.server.tls, loaded.dataDir);
  const app = createApp(services);
  const server = https.createServer({ cert: tls.cert, key: tls.key, minVersion: loaded.config.server.tls.minVersion, ...expressServerClasses(app) }, app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(loaded.config.server.port, loaded.config.server.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = listeningUrl(loaded.config.server.host, port);
  services.publicUrl.listeningAt(url);
  const stopWatching = services.policy.watch(loaded.configDir);
  const stopHousekeeping = startHousekeeping(services);
  const opsConfig = loaded.config.ops;
  const ops = opsConfig.port === undefined ? undefined : await startOpsServer(services, opsConfig.host, opsConfig.port, opsConfig.metrics);

  print(`Portcullis listening on ${url}/cas/login (TLS ${loaded.config.server.tls.minVersion}+)`);
  print(`  database: ${services.db.description}`);
  print(`  health and metrics: ${ops ? `${ops.url}/health/ready, ${ops.url}/metrics` : `${url}/health/ready, ${url}/metrics (administrator token)`}`);
  print(`  config files: ${loaded.files.length > 0 ? loaded.files.join(', ') : `(none in ${loaded.configDir}; built-in defaults)`}`);
  print(`  certificate: ${tls.source}${tls.generated ? ' (self-signed, generated now)' : ''}`);
  print(`  certificate SHA-256 fingerprint: ${tls.fingerprint}`);
  const lockout = services.policy.get().lockout;
  print(`  lockout: ${lockout.maxAllowedLoginFailureCount} failures -> locked ${lockout.userLockoutTimeout} s; max administrators ${services.policy.get().administrators.maxAdministratorCount}`);
  if (bootstrap) {
    // Printed once, straight to the terminal: never through the logger, never stored in clear.
    print('');
    print(`  Bootstrap administrator created: username "${bootstrap.username}", one-time password: ${bootstrap.password}`);
    print('  This password is shown only now. It must be changed at the first sign-in.');
    print('');
  }
  services.logger.info({ event: 'started', url, database: services.db.description, configFiles: loaded.files }, 'started');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      stopWatching();
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
