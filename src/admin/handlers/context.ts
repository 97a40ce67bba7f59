import type { AccountService } from '../../accounts/account-service';
import type { Account } from '../../accounts/account';
import type { LoginService } from '../../authn/login-service';
import type { ServiceRegistry } from '../../cas/service-registry';
import type { LivePolicySource } from '../../config/live-policy';
import type { EdgeAuthenticator } from '../../http/passport';
import type { PublicUrl } from '../../http/public-url';
import type { MfaService } from '../../mfa/mfa-service';
import type { BreachedFilterSource } from '../../policy/breached-filter-source';
import type { LockView } from '../../policy/regulator';
import type { LockoutState } from '../../storage/lockout-store';
import type { AuditLog } from '../../storage/audit-log';
import type { SessionService } from '../../tickets/sessions';
import type { TokenSigner } from '../../web/signed-token';
import type { Clock } from '../../shared/clock';
import type { AccountLister } from '../account-views';
import type { ApiTokenService } from '../api-tokens';

/** Figures for GET /stats (src/storage/account-stats.ts and the account repository). */
export interface AdminStatsStore {
  counts(): Promise<{ total: number; enabled: number; mustChangePassword: number }>;
  /** Counters of accounts whose lock runs past `now`. */
  lockStates(now: number): Promise<LockoutState[]>;
  countAdministrators(onlyEnabled: boolean): Promise<number>;
  countLegacyHashes(): Promise<number>;
}

/**
 * Everything the API's handlers use, built in the composition root
 * (src/admin-wiring.ts); each handler module takes only its own slice (below).
 */
export interface AdminDeps {
  accountService: AccountService;
  accounts: AccountLister & { findById(id: number): Promise<Account | null> };
  /** The regulator's view of a name's lock (src/policy/regulator.ts). */
  regulator: { view(usernameKey: string): Promise<LockView> };
  policy: Pick<LivePolicySource, 'get' | 'sources'>;
  tokens: ApiTokenService;
  audit: Pick<AuditLog, 'append' | 'query'>;
  clock: Clock;
  mfa: MfaService;
  signer: Pick<TokenSigner, 'sign' | 'verify'>;
  sessions: Pick<SessionService, 'find'>;
  authenticate: EdgeAuthenticator;
  loginService: Pick<LoginService, 'confirmPassword'>;
  serviceRegistry: ServiceRegistry;
  breachedFilter: Pick<BreachedFilterSource, 'info'>;
  stats: AdminStatsStore;
  publicUrl: Pick<PublicUrl, 'to'>;
}

export type AccountRouteDeps = Pick<AdminDeps, 'accountService' | 'accounts' | 'regulator' | 'policy' | 'tokens' | 'clock' | 'mfa'>;
export type FactorRouteDeps = Pick<AdminDeps, 'accountService' | 'mfa' | 'signer' | 'clock'>;
export type TokenRouteDeps = Pick<AdminDeps, 'authenticate' | 'sessions' | 'accounts' | 'audit' | 'policy' | 'clock' | 'tokens' | 'mfa'>;
export type MeRouteDeps = Pick<AdminDeps, 'accountService' | 'loginService' | 'policy' | 'audit' | 'clock' | 'tokens'>;
export type ServiceRouteDeps = Pick<AdminDeps, 'serviceRegistry' | 'audit' | 'clock'>;
export type AuditRouteDeps = Pick<AdminDeps, 'audit'>;
export type SystemRouteDeps = Pick<AdminDeps, 'policy' | 'breachedFilter' | 'stats' | 'tokens' | 'clock'>;

export { requestContext } from '../../http/request-context';

/** Paging as echoed in list responses. */
export function page(query: { offset?: number; limit?: number }): { offset: number; limit: number } {
  return { offset: query.offset ?? 0, limit: query.limit ?? 50 };
}
