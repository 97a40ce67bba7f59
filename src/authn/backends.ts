import type { Config } from '../config/schema';
import { ConfigError } from '../shared/errors';
import type { AccountRepository } from '../storage/accounts-repo';
import type { Logger } from '../shared/logger';
import type { AuthenticationBackend } from './backend';
import { InternalBackend } from './internal-backend';
import type { PasswordHasher } from './password-hasher';

export interface BackendFactoryDeps {
  config: Config;
  accounts: AccountRepository;
  hasher: PasswordHasher;
  logger: Logger;
  env: NodeJS.ProcessEnv;
}

/**
 * Builds the configured backend chain. With no `authentication.backends`
 * configured, the internal database is the only backend.
 */
export function createBackends(deps: BackendFactoryDeps): AuthenticationBackend[] {
  const configured = deps.config.authentication.backends;
  if (configured.length === 0) return [new InternalBackend(deps.accounts, deps.hasher)];
  const backends: AuthenticationBackend[] = [];
  const problems: string[] = [];
  configured.forEach((entry, index) => {
    const type = (entry as { type?: unknown })?.type;
    if (type === 'internal') backends.push(new InternalBackend(deps.accounts, deps.hasher));
    else problems.push(`config: authentication.backends.${index}.type: unknown backend type "${String(type)}"`);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return backends;
}
