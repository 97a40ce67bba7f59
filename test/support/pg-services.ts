import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigInput } from '../../src/config/schema';
import { loadConfig } from '../../src/config/load';
import { type Services, buildServices } from '../../src/services';
import { migrateToLatest, openDatabase } from '../../src/storage/db';
import { ManualClock } from '../../src/shared/clock';
import { createLogger } from '../../src/shared/logger';
import { type TestDatabase, createPostgresTestDatabase } from './pg-test-databases';

export interface SharedDatabase {
  database: TestDatabase;
  /** Independent Services (own pool, own caches) on the one database, like separate instances. */
  instances: Services[];
  clock: ManualClock;
  close(): Promise<void>;
}

/**
 * `count` Services objects on one fresh PostgreSQL database, each with its own
 * connection pool: the in-process stand-in for several instances, for races
 * that need many iterations (the process-level tests are in test/infra/multi-instance*).
 */
export async function sharedPostgres(count: number, overrides: ConfigInput = {}): Promise<SharedDatabase> {
  const database = await createPostgresTestDatabase();
  const root = mkdtempSync(path.join(os.tmpdir(), 'portcullis-pg-'));
  const clock = new ManualClock(Date.now());
  const instances: Services[] = [];
  try {
    const loaded = loadConfig({
      configDir: path.join(root, 'config'),
      dataDir: path.join(root, 'data'),
      env: {},
      overrides: { ...overrides, database: { ...database.config, ...overrides.database }, logging: { level: 'silent' }, mfa: { require: 'never', ...overrides.mfa } },
    });
    const db = openDatabase(loaded.config.database, loaded.dataDir, {});
    await migrateToLatest(db.knex);
    await db.knex.destroy();
    for (let i = 0; i < count; i++) instances.push(await buildServices(loaded, { clock, logger: createLogger('silent'), env: {} }));
  } catch (error) {
    await Promise.allSettled(instances.map((s) => s.close()));
    await database.drop();
    throw error;
  }
  return {
    database,
    instances,
    clock,
    async close() {
      await Promise.allSettled(instances.map((s) => s.close()));
      await database.drop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
