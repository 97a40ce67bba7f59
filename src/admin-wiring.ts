/**
 * Composition root of the administration API: its narrow dependencies
 * (src/admin/handlers/context.ts) taken from the services. Used by createApp
 * (src/app.ts) and by the CLI's token commands.
 */
import type { AdminDeps } from './admin/handlers/context';
import { ApiTokenService } from './admin/api-tokens';
import type { Services } from './services';
import { AccountStats } from './storage/account-stats';
import { KnexApiTokenStore } from './storage/api-token-store';

/** The API token service on the shared database (the API, the console and the CLI use the same tokens). */
export function apiTokens(services: Services): ApiTokenService {
  return new ApiTokenService(new KnexApiTokenStore(services.db.knex), services.audit, services.clock, () => services.config.api.tokenTtlSeconds);
}

export function adminDeps(services: Services, tokens: ApiTokenService = apiTokens(services)): AdminDeps {
  const { accounts } = services;
  const accountStats = new AccountStats(services.db.knex);
  return {
    accountService: services.accountService,
    accounts,
    regulator: services.regulator,
    policy: services.policy,
    tokens,
    audit: services.audit,
    clock: services.clock,
    mfa: services.mfa,
    signer: services.signer,
    sessions: services.sessions,
    authenticate: services.authenticate,
    loginService: services.loginService,
    serviceRegistry: services.serviceRegistry,
    breachedFilter: services.breachedFilter,
    stats: {
      counts: () => accountStats.counts(),
      lockStates: (now) => accountStats.lockStates(now),
      countAdministrators: (onlyEnabled) => accounts.countAdministrators(onlyEnabled),
      countLegacyHashes: () => accounts.countLegacyHashes(),
    },
    publicUrl: services.publicUrl,
  };
}
