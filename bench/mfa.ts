import { INTERNAL_BACKEND } from '../src/authn/internal-backend';
import { loadConfig } from '../src/config/load';
import { totpCode } from '../src/mfa/totp';
import { buildServicesAfterMigration } from '../src/server';
import type { Services } from '../src/services';
import { createLogger } from '../src/shared/logger';
import { usernameKey } from '../src/shared/username';
import { BenchClient, type BenchOptions, type Figure, compareAlternating, createBenchUsers, postLogin, preparedLoginClients, round, startServer, tempDirs } from './support';

const PASSWORD_USERS = 16;
/** A TOTP code works once per account and 30 s step (±1 step): enough accounts that no sign-in waits for a fresh step. */
const MFA_USERS = 300;
const PASSWORD = 'Bench-Marking-Pass-7';
const ROUNDS = 4;
const STEP_MS = 30_000;

interface MfaUser {
  username: string;
  secret: string;
  /** The last TOTP step this account used (the server refuses it and earlier ones). */
  lastStep: number;
}

/** Accounts with a TOTP factor, enrolled with the previous step's code so the current and next steps are free. */
async function enrolledUsers(services: Services): Promise<MfaUser[]> {
  // One hash for all: creating hundreds of accounts through Argon2 one by one would take minutes.
  const passwordHash = await services.hasher.hash(PASSWORD);
  const who = { clientIp: null, userAgent: null, channel: 'bench' };
  const users: MfaUser[] = [];
  for (let i = 0; i < MFA_USERS; i++) {
    const username = `mfa${i}`;
    const account = await services.accounts.insert({ username, usernameKey: usernameKey(username), role: 'user', source: INTERNAL_BACKEND, passwordHash }, Date.now());
    const { secret } = await services.mfa.beginTotp(account);
    const step = Math.floor(Date.now() / STEP_MS) - 1;
    if (!(await services.mfa.confirmTotp(account, secret, totpCode(secret, step * STEP_MS), 'bench', who))) throw new Error('enrolment refused');
    users.push({ username, secret, lastStep: step });
  }
  return users;
}

/** The next account with a usable step (current, or next within the drift) and its code. */
function nextCode(users: MfaUser[], cursor: { at: number }): { username: string; code: string } {
  const current = Math.floor(Date.now() / STEP_MS);
  for (let tried = 0; tried < users.length; tried++) {
    const user = users[cursor.at++ % users.length];
    const step = Math.max(user.lastStep + 1, current);
    if (step > current + 1) continue;
    user.lastStep = step;
    return { username: user.username, code: totpCode(user.secret, step * STEP_MS) };
  }
  throw new Error(`every one of the ${users.length} TOTP accounts used its codes for this step: raise MFA_USERS`);
}

/** Password, then the code page, then the code: a complete password + TOTP sign-in. */
async function passwordAndCode(prepared: { client: BenchClient; form: Record<string, string> }, users: MfaUser[], cursor: { at: number }): Promise<void> {
  const { username, code } = nextCode(users, cursor);
  const page = await prepared.client.request('POST', '/cas/login', { ...prepared.form, username });
  const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1];
  if (page.status !== 200 || !token) throw new Error(`password step answered ${page.status} without a code form`);
  const done = await prepared.client.request('POST', '/cas/mfa', { token, code });
  if (done.status !== 200) throw new Error(`code step answered ${done.status}`);
}

/** The password step of every TOTP account once (it stops at the code form; no code is used). */
async function warmUp(clients: { client: BenchClient; form: Record<string, string> }[], users: MfaUser[]): Promise<void> {
  let next = 0;
  await Promise.all(
    clients.map(async (prepared) => {
      while (next < users.length) {
        const page = await prepared.client.request('POST', '/cas/login', { ...prepared.form, username: users[next++].username });
        if (page.status !== 200) throw new Error(`warm-up password step answered ${page.status}`);
      }
    }),
  );
}

/**
 * Password + TOTP sign-ins per second (POST /cas/login, then POST /cas/mfa)
 * against password-only sign-ins per second, on one real server process in
 * alternating rounds. The ratio is what the second factor costs.
 */
export async function benchMfa(options: BenchOptions): Promise<Figure[]> {
  const dirs = tempDirs();
  const env = { PORTCULLIS_DATA_DIR: dirs.dataDir, PORTCULLIS_CONFIG_DIR: dirs.configDir };
  const loaded = loadConfig({ ...dirs, env });
  const setup = await buildServicesAfterMigration(loaded, createLogger('warn'));
  await createBenchUsers(setup, PASSWORD_USERS, PASSWORD);
  const users = await enrolledUsers(setup);
  await setup.close();

  const server = await startServer(dirs);
  try {
    const agent = BenchClient.agent(server.ca, options.concurrency);
    const passwordClients = await preparedLoginClients(agent, [server.url], options.concurrency, PASSWORD_USERS, PASSWORD);
    const mfaClients = await preparedLoginClients(agent, [server.url], options.concurrency, PASSWORD_USERS, PASSWORD);
    // A server checks each account's password against the policy once, at its first sign-in (then remembers it):
    // every TOTP account signs in once with its password first, as the 16 password-only accounts do in the warm-up.
    await warmUp(mfaClients, users);
    const cursor = { at: 0 };
    options.log(`password-only vs password + TOTP sign-ins (${options.concurrency} keep-alive clients, ${MFA_USERS} TOTP accounts), alternating rounds, ${options.seconds}s each`);
    const { baseline: password, target: mfa } = await compareAlternating(
      options,
      ROUNDS,
      (worker) => postLogin(passwordClients[worker]),
      (worker) => passwordAndCode(mfaClients[worker], users, cursor),
    );
    agent.destroy();
    return [
      { name: 'password_only_signins_per_second', value: round(password.perSecond), unit: 'sign-ins/s' },
      { name: 'password_totp_signins_per_second', value: round(mfa.perSecond), unit: 'sign-ins/s' },
      { name: 'password_totp_to_password_ratio', value: round(mfa.perSecond / password.perSecond, 3), unit: 'ratio (target >= 0.9)' },
      { name: 'password_totp_p50_latency', value: round(mfa.p50), unit: 'ms' },
      { name: 'password_totp_p99_latency', value: round(mfa.p99), unit: 'ms' },
    ];
  } finally {
    await server.stop();
  }
}
