import type { Config } from '../config/schema';
import type { Logger } from '../shared/logger';
import type { AuthenticationBackend } from './backend';
import { type InternalAccounts, InternalBackend } from './internal-backend';
import { LdapBackend } from './ldap/ldap-backend';
import type { PasswordHasher } from './password-hasher';
import { WindowsBackend } from './windows/windows-backend';

export interface BackendFactoryDeps {
  config: Config;
  accounts: InternalAccounts;
  hasher: PasswordHasher;
  logger: Logger;
  env: NodeJS.ProcessEnv;
}

/**
 * Builds the configured backend chain, in order. With no
 * `authentication.backends` configured, the internal database is the only
 * backend. (The schema has already checked types and unique names.)
 */
export function createBackends(deps: BackendFactoryDeps): AuthenticationBackend[] {
  const configured = deps.config.authentication.backends;
  if (configured.length === 0) return [new InternalBackend(deps.accounts, deps.hasher)];
  const built: AuthenticationBackend[] = [];
  try {
    configured.forEach((entry, index) => {
      const configPath = `authentication.backends.${index}`;
      switch (entry.type) {
        case 'internal':
          built.push(new InternalBackend(deps.accounts, deps.hasher));
          break;
        case 'ldap':
          built.push(new LdapBackend(entry, deps.env, deps.logger, configPath));
          break;
        case 'windows':
          built.push(new WindowsBackend(entry, deps.env, deps.logger, configPath));
          break;
      }
    });
  } catch (error) {
    // Do not leak the pools of the backends built before the failing one.
    for (const backend of built) void backend.close();
    throw error;
  }
  return built;
}
