import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { loadOrCreateTls } from '../../src/http/tls';
import { createApp } from '../../src/app';
import type { ConfigInput } from '../../src/config/schema';
import { loadConfig } from '../../src/config/load';
import { type Services, buildServices } from '../../src/services';
import { migrateToLatest, openDatabase } from '../../src/storage/db';
import { ManualClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import { createSelectedTestDatabase } from './pg-test-databases';
import { expressServerClasses } from '../../src/http/express-server';

export interface TestContext {
  services: Services;
  app: Express;
  clock: ManualClock;
  configDir: string;
  dataDir: string;
  /** https://127.0.0.1:PORT — the app served over real TLS. */
  url: string;
  /** PEM of the test certificate, to trust in clients. */
  ca: string;
  server: https.Server;
  /** A supertest agent over HTTPS that keeps cookies between requests (like a browser). */
  agent(): ReturnType<typeof request.agent>;
  /** Creates an internal account and returns it (password checked against policy). */
  addUser(username: string, password: string, options?: { role?: 'admin' | 'user'; mustChangePassword?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export interface TestOptions {
  overrides?: ConfigInput;
  /** Files to write into the config directory before loading (e.g. private.config). */
  files?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** Use a file-backed SQLite database (default in-memory). */
  fileDatabase?: boolean;
  /** SQLite whatever PORTCULLIS_TEST_DB says (for a SQLite-only mechanism such as max_page_count). */
  sqliteOnly?: boolean;
  clock?: ManualClock;
  /** Collects log lines (JSON strings) instead of discarding them. */
  logLines?: string[];
  /** Port to serve on (default: any free one), for tests whose server.publicUrl names the port. */
  port?: number;
  /** Another context whose database this one uses (a second instance behind the same load balancer); not dropped on close. */
  shareDatabaseWith?: TestContext;
}

/** A context's database settings as another instance would name them (a SQLite file by absolute path). */
function sharedDatabase(ctx: TestContext): ConfigInput['database'] {
  const database = ctx.services.config.database;
  return database.client === 'sqlite' ? { ...database, filename: path.resolve(ctx.dataDir, database.filename) } : database;
}

/**
 * A fully wired service on a fresh database (SQLite in memory by default,
 * or whatever DATABASE_URL-style overrides say), migrated, with a manual clock.
 * PORTCULLIS_TEST_DB=postgres|mssql gives each context its own new database on
 * that server instead, dropped on close (see pg-test-databases.ts).
 */
export async function createTestContext(options: TestOptions = {}): Promise<TestContext> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-test-'));
  const configDir = path.join(root, 'config');
  const dataDir = path.join(root, 'data');
  mkdirSync(configDir);
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(path.join(configDir, name), text);
  const testDatabase = options.sqliteOnly || options.shareDatabaseWith ? null : await createSelectedTestDatabase(process.env);
  const overrides: ConfigInput = {
    ...options.overrides,
    database: options.shareDatabaseWith
      ? sharedDatabase(options.shareDatabaseWith)
      : testDatabase
      ? { ...options.overrides?.database, ...testDatabase.config }
      : { filename: options.fileDatabase ? 'test.sqlite' : ':memory:', ...options.overrides?.database },
    logging: { level: 'silent', ...options.overrides?.logging },
    // Tests not about second factors sign in with the password alone; MFA tests set mfa.require themselves.
    mfa: { require: 'never', ...options.overrides?.mfa },
  };
  const loaded = loadConfig({ configDir, dataDir, env: options.env ?? {}, overrides });
  const clock = options.clock ?? new ManualClock(Date.now());
  const logLines = options.logLines;
  const logger = logLines
    ? createLogger('debug', { write: (line: string) => void logLines.push(line) })
    : createLogger(loaded.config.logging.level);
  let services: Services;
  if (loaded.config.database.client === 'sqlite' && loaded.config.database.filename === ':memory:') {
    // An in-memory database exists per connection: build services first, migrate through the same pool.
    services = await buildServicesMigrated(loaded, clock, logger);
  } else {
    const db = openDatabase(loaded.config.database, dataDir, options.env ?? {});
    await migrateToLatest(db.knex);
    await db.knex.destroy();
    services = await buildServices(loaded, { clock, logger, env: options.env ?? {} });
  }
  const app = createApp(services);
  const tls = await loadOrCreateTls({ minVersion: 'TLSv1.2' }, path.join(os.tmpdir(), `portcullis-test-tls-${process.pid}`));
  const server = https.createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', ...expressServerClasses(app) }, app);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  services.publicUrl.listeningAt(url);
  return {
    services,
    app,
    clock,
    configDir,
    dataDir,
    url,
    ca: tls.cert,
    server,
    agent: () => request.agent(url).ca(tls.cert),
    async addUser(username, password, opts = {}) {
      await services.accountService.create({ username, password, role: opts.role ?? 'user', mustChangePassword: opts.mustChangePassword }, { name: 'test' });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await services.close();
      await testDatabase?.drop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function buildServicesMigrated(loaded: Parameters<typeof buildServices>[0], clock: ManualClock, logger: ReturnType<typeof createLogger>): Promise<Services> {
  // The in-memory database lives on the pool's single connection: migrate it before keys are read.
  return buildServices(loaded, { clock, logger, env: {}, beforeKeys: (knex) => migrateToLatest(knex) });
}

/** Pulls the login form's CSRF `execution` value out of a login page. */
export function executionFrom(page: string): string {
  const match = /name="execution" value="([^"]+)"/.exec(page);
  if (!match) throw new Error('no execution field in page');
  return match[1];
}

/** GET the login page then POST credentials, as a browser would. */
export async function submitLogin(
  agent: ReturnType<typeof request.agent>,
  username: string,
  password: string,
  extra: Record<string, string> = {},
): Promise<request.Response> {
  const query = new URLSearchParams(extra).toString();
  const page = await agent.get(`/cas/login${query ? `?${query}` : ''}`);
  return agent
    .post('/cas/login')
    .type('form')
    .send({ username, password, execution: executionFrom(page.text), ...extra });
}
