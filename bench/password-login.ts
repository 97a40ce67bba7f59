import argon2 from 'argon2';
import { loadConfig } from '../src/config/load';
import { buildServicesAfterMigration } from '../src/server';
import { createLogger } from '../src/shared/logger';
import { BenchClient, type BenchOptions, type Figure, compareAlternating, createBenchUsers, postLogin, preparedLoginClients, round, startServer, tempDirs } from './support';

const USERS = 16;
const PASSWORD = 'Bench-Marking-Pass-7';
const ROUNDS = 4;

/**
 * Password logins per second through POST /cas/login (a real server process,
 * HTTPS, keep-alive clients) against raw Argon2id verifications per second
 * with the same parameters in this process. The ratio is what the service
 * costs on top of the hash it must compute.
 */
export async function benchPasswordLogin(options: BenchOptions): Promise<Figure[]> {
  const dirs = tempDirs();
  const env = { PORTCULLIS_DATA_DIR: dirs.dataDir, PORTCULLIS_CONFIG_DIR: dirs.configDir };
  const loaded = loadConfig({ ...dirs, env });
  const setup = await buildServicesAfterMigration(loaded, createLogger('warn'));
  await createBenchUsers(setup, USERS, PASSWORD);
  await setup.close();

  const { memoryCost, timeCost, parallelism } = loaded.config.argon2;
  const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost, timeCost, parallelism });
  const server = await startServer(dirs);
  try {
    const agent = BenchClient.agent(server.ca, options.concurrency);
    const clients = await preparedLoginClients(agent, [server.url], options.concurrency, USERS, PASSWORD);
    options.log(`argon2id m=${memoryCost} t=${timeCost} p=${parallelism} raw verifications vs POST /cas/login (${options.concurrency} keep-alive clients, ${USERS} users), alternating rounds, ${options.seconds}s each`);
    const { baseline: raw, target: logins } = await compareAlternating(
      options,
      ROUNDS,
      async () => {
        if (!(await argon2.verify(hash, PASSWORD))) throw new Error('verify failed');
      },
      (worker) => postLogin(clients[worker]),
    );
    agent.destroy();
    return [
      { name: 'password_logins_per_second', value: round(logins.perSecond), unit: 'logins/s' },
      { name: 'argon2id_verifications_per_second', value: round(raw.perSecond), unit: 'verifications/s' },
      { name: 'password_login_to_argon2_ratio', value: round(logins.perSecond / raw.perSecond, 3), unit: 'ratio (target >= 0.85)' },
      { name: 'password_login_p50_latency', value: round(logins.p50), unit: 'ms' },
      { name: 'password_login_p99_latency', value: round(logins.p99), unit: 'ms' },
    ];
  } finally {
    await server.stop();
  }
}
