import type { LoadedConfig } from './config/load';
import { LivePolicySource } from './config/live-policy';
import type { Config } from './config/schema';
import { AccountService } from './accounts/account-service';
import type { AuthenticationBackend } from './authn/backend';
import { createBackends } from './authn/backends';
import { type NegotiateAuthenticator, createNegotiateAuthenticator } from './authn/windows/spnego';
import { BackendChain } from './authn/chain';
import { LoginService } from './authn/login-service';
import { type EdgeAuthenticator, edgeAuthenticator, edgePassport } from './http/passport';
import { PasswordHasher } from './authn/password-hasher';
import { AccountRepository } from './storage/accounts-repo';
import { AuditLog } from './storage/audit-log';
import { type Database, openDatabase } from './storage/db';
import { KeyStore } from './storage/key-store';
import { LockoutStore } from './storage/lockout-store';
import { NoticeStore } from './storage/notice-store';
import type { TicketRegistry } from './tickets/registry';
import { KnexTicketStore } from './storage/ticket-store';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ClientThrottleStore } from './storage/client-throttle-store';
import { LoginRegulator } from './policy/regulator';
import { MfaStore } from './storage/mfa-store';
import { MfaService } from './mfa/mfa-service';
import { WebAuthnService } from './mfa/webauthn-service';
import { WebAuthnStore } from './storage/webauthn-store';
import { SecretBox, loadExtraKeys, loadKey } from './mfa/secret-box';
import path from 'node:path';
import type { JobLeaseStore } from './ops/job-leases';
import { KnexJobLeaseStore } from './storage/job-lease-store';
import { MeteredTicketRegistry } from './ops/metered-tickets';
import { Metrics } from './ops/metrics';
import { SessionService } from './tickets/sessions';
import { type Clock, systemClock } from './shared/clock';
import { type Logger, createLogger } from './shared/logger';
import { TokenSigner } from './web/signed-token';
import type { ServicePort } from './cas/login/service-port';
import { CasProtocol } from './cas/cas-protocol';
import { KnexServiceStore } from './storage/service-store';
import { KnexSingleLogoutStore } from './storage/single-logout-store';
import { BreachedFilterSource, breachedFilterPath } from './policy/breached-filter-source';
import type { ServiceRegistry } from './cas/service-registry';
import { PublicUrl } from './http/public-url';

/** Everything the HTTP layer and the CLI use, built once from the loaded config. */
export interface Services {
  loaded: LoadedConfig;
  config: Config;
  clock: Clock;
  logger: Logger;
  db: Database;
  policy: LivePolicySource;
  accounts: AccountRepository;
  lockouts: LockoutStore;
  audit: AuditLog;
  keys: KeyStore;
  tickets: TicketRegistry;
  sessions: SessionService;
  hasher: PasswordHasher;
  /** The breached-password filter (reloaded on SIGHUP). */
  breachedFilter: BreachedFilterSource;
  accountService: AccountService;
  backends: AuthenticationBackend[];
  chain: BackendChain;
  loginService: LoginService;
  /** Passport at the edge: one strategy per way in (form, REST tickets, API tokens, SPNEGO) reads the request. */
  authenticate: EdgeAuthenticator;
  /** Integrated Windows sign-in (SPNEGO), present when a windows backend has `spnego: true`. */
  negotiate?: NegotiateAuthenticator;
  signer: TokenSigner;
  /** Prometheus metrics of this process; CAS validation reports through `metrics.ticketValidated`. */
  metrics: Metrics;
  /** The lockout and client-address throttle: every way in asks it (src/policy/regulator.ts). */
  regulator: LoginRegulator;
  clientThrottles: ClientThrottleStore;
  /** Second factors (TOTP, recovery codes) and the MFA policy. */
  mfa: MfaService;
  webauthn: WebAuthnService;
  factors: MfaStore;
  /** Encrypts TOTP secrets at rest with the MFA key. */
  secretBox: SecretBox;
  leases: JobLeaseStore;
  /** Names this process in job leases and logs (host, pid, random suffix). */
  instanceId: string;
  servicePort: ServicePort;
  /** Absolute URLs to this server (from server.publicUrl, never from request headers). */
  publicUrl: PublicUrl;
  /** The CAS protocol layer (validation, proxies, single logout). */
  cas: CasProtocol;
  /** Registered CAS services (used by the CLI and the admin API). */
  serviceRegistry: ServiceRegistry;
  /** Acceptances of the notice page (`ui.notice`). */
  notices: NoticeStore;
  close(): Promise<void>;
}

export interface BuildOptions {
  clock?: Clock;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Runs on the new pool before anything reads it (tests migrate in-memory SQLite here). */
  beforeKeys?: (knex: Database['knex']) => Promise<unknown>;
}

/** What every part is built on: config, clock, logger, the pool and the live policy. */
interface Foundation {
  loaded: LoadedConfig;
  config: Config;
  clock: Clock;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  db: Database;
  policy: LivePolicySource;
}

function foundationOf(loaded: LoadedConfig, options: BuildOptions): Foundation {
  const config = loaded.config;
  const logger = options.logger ?? createLogger(config.logging.level);
  const env = options.env ?? process.env;
  const db = openDatabase(config.database, loaded.dataDir, env);
  const policy = new LivePolicySource({ configDir: loaded.configDir, dataDir: loaded.dataDir, env }, loaded, logger);
  return { loaded, config, clock: options.clock ?? systemClock, logger, env, db, policy };
}

/** The breached-password filter; a required one that cannot load stops the build (and closes the pool). */
async function loadBreachedFilter({ loaded, config, logger, db }: Foundation): Promise<BreachedFilterSource> {
  const filterPath = breachedFilterPath(loaded.dataDir, config.password.breachedFilterFile);
  const breachedFilter = new BreachedFilterSource(filterPath.file, filterPath.required, logger);
  await breachedFilter.load().catch(async (error: unknown) => {
    await db.knex.destroy();
    throw error;
  });
  return breachedFilter;
}

/** Tickets (metered), sessions and the metrics that count them. */
function ticketsOf({ db, clock, config }: Foundation, audit: AuditLog) {
  const metrics = new Metrics({ activeSessions: () => tickets.countActive('TGT', clock.now()) });
  audit.observe((event) => metrics.observeAudit(event));
  const tickets = new MeteredTicketRegistry(new KnexTicketStore(db.knex), (kind) => metrics.ticketIssued(kind));
  const sessions = new SessionService(tickets, clock, () => ({ idleSeconds: config.tickets.tgtIdleTimeoutSeconds, hardSeconds: config.tickets.tgtHardTimeoutSeconds }));
  return { metrics, tickets, sessions };
}

/** The sign-in path: regulator, accounts, backends, the login service and passport's strategies at the edge. */
function signInOf(base: Foundation, stores: { accounts: AccountRepository; audit: AuditLog; factors: MfaStore }, breachedFilter: BreachedFilterSource) {
  const { config, clock, logger, env, db, policy } = base;
  const { accounts, audit } = stores;
  const lockouts = new LockoutStore(db.knex);
  const clientThrottles = new ClientThrottleStore(db.knex);
  const regulator = new LoginRegulator({ counters: lockouts, clients: clientThrottles, lockout: () => policy.get().lockout, throttle: () => config.ops.clientThrottle, clock });
  const hasher = new PasswordHasher(config.argon2);
  const accountService = new AccountService(accounts, lockouts, hasher, policy, audit, clock, breachedFilter);
  const backends = createBackends({ config, accounts, hasher, logger, env });
  const chain = new BackendChain(backends, accounts);
  const loginService = new LoginService({ chain, accounts, accountService, regulator, hasher, policy, audit, clock, logger, factors: { enrolledKinds: (id) => stores.factors.kinds(id) } });
  const negotiate = createNegotiateAuthenticator(backends, loginService, audit, clock, logger);
  const authenticate = edgeAuthenticator(edgePassport(loginService, negotiate));
  return { lockouts, clientThrottles, regulator, hasher, accountService, backends, chain, loginService, negotiate, authenticate };
}

/** Second factors: the secret box (its key must exist once any factor does), TOTP and recovery codes, security keys. */
async function secondFactorsOf(base: Foundation, deps: { factors: MfaStore; accounts: AccountRepository; audit: AuditLog; regulator: LoginRegulator; metrics: Metrics; publicUrl: PublicUrl }) {
  const { config, clock, env, loaded, db, policy } = base;
  const { factors, accounts, audit, regulator, metrics, publicUrl } = deps;
  const secretBox = new SecretBox(
    loadKey({ keyFile: config.mfa.secretKeyFile, envKey: env.PORTCULLIS_MFA_KEY, defaultFile: path.join(loaded.dataDir, 'mfa.key') }, await factors.anyExist()),
    loadExtraKeys(config.mfa.extraKeyFiles),
  );
  const onAttempt = (factor: string, outcome: string) => metrics.mfaAttempt(factor, outcome);
  const mfa = new MfaService({ store: factors, box: secretBox, regulator, audit, clock, requirement: () => config.mfa.require, issuer: config.mfa.issuer, onAttempt });
  const webauthn = new WebAuthnService({
    store: new WebAuthnStore(db.knex),
    regulator,
    audit,
    clock,
    publicUrl,
    findAccount: (id) => accounts.findById(id),
    recordLogin: (id, now) => accounts.recordLogin(id, now),
    onAttempt,
    maxPasswordAgeDays: () => policy.get().password.maxAgeDays,
  });
  return { secretBox, mfa, webauthn };
}

/** Builds every service from the loaded config, in dependency order; a list of named steps. */
export async function buildServices(loaded: LoadedConfig, options: BuildOptions = {}): Promise<Services> {
  const base = foundationOf(loaded, options);
  const { config, clock, db } = base;
  const stores = { accounts: new AccountRepository(db.knex), audit: new AuditLog(db.knex), keys: new KeyStore(db.knex), factors: new MfaStore(db.knex) };
  const { metrics, tickets, sessions } = ticketsOf(base, stores.audit);
  const breachedFilter = await loadBreachedFilter(base);
  const signIn = signInOf(base, stores, breachedFilter);
  const cas = new CasProtocol({ serviceStore: new KnexServiceStore(db.knex), singleLogoutStore: new KnexSingleLogoutStore(db.knex), config, clock, logger: base.logger, tickets, accounts: stores.accounts });
  if (options.beforeKeys) await options.beforeKeys(db.knex);
  const signer = new TokenSigner(await stores.keys.getOrCreate('form-signing', clock.now()));
  const publicUrl = new PublicUrl(config.server);
  const secondFactors = await secondFactorsOf(base, { ...stores, regulator: signIn.regulator, metrics, publicUrl });
  return {
    loaded,
    config,
    clock,
    logger: base.logger,
    db,
    policy: base.policy,
    ...stores,
    ...signIn,
    ...secondFactors,
    tickets,
    sessions,
    metrics,
    breachedFilter,
    signer,
    leases: new KnexJobLeaseStore(db.knex),
    instanceId: `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`,
    servicePort: cas.servicePort,
    publicUrl,
    cas,
    serviceRegistry: cas.registry,
    notices: new NoticeStore(db.knex),
    async close() {
      await cas.stop();
      await Promise.allSettled(signIn.backends.map((b) => b.close()));
      await db.knex.destroy();
    },
  };
}
