import { accessSync, constants, statSync } from 'node:fs';
import { FilterTemplate } from '../authn/ldap/ldap-filter';
import type { DirectoryConnectionConfig } from './backends-schema';
import type { Config } from './schema';

/**
 * Checks of a schema-valid configuration that need the file system or a
 * parser: files that must exist and be readable, secret files other users can
 * read, LDAP filter templates. They run in loadConfig, so `config check` and
 * `start` give one verdict, every problem at once, each naming file and key.
 */

/** "the config file or env that set this key": `source: key: message`. */
export type Reporter = (key: string, message: string) => void;

function readable(file: string): string | null {
  try {
    accessSync(file, constants.R_OK);
    return statSync(file).isFile() ? null : `${file} is not a file`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file} (${code ?? 'error'})`;
  }
}

function checkFile(report: Reporter, key: string, file: string | undefined): void {
  if (file === undefined) return;
  const problem = readable(file);
  if (problem) report(key, problem);
}

/** A secret must also be closed to other users (the same rule readSecretFile enforces when reading it). */
function checkSecretFile(report: Reporter, key: string, file: string | undefined): void {
  if (file === undefined) return;
  const problem = readable(file);
  if (problem) return report(key, problem);
  const mode = statSync(file).mode;
  if ((mode & 0o004) !== 0) report(key, `${file} is world-readable (mode ${(mode & 0o777).toString(8)}); chmod o-r it`);
}

function checkFilter(report: Reporter, key: string, template: string, allowed: string[]): void {
  try {
    FilterTemplate.parse(template, allowed);
  } catch (error) {
    report(key, (error as Error).message);
  }
}

function checkConnection(report: Reporter, key: string, d: DirectoryConnectionConfig, env: NodeJS.ProcessEnv): void {
  checkFile(report, `${key}.caFile`, d.caFile);
  const account = d.serviceAccount;
  if (!account) return;
  checkSecretFile(report, `${key}.serviceAccount.passwordFile`, account.passwordFile);
  if (account.passwordEnv !== undefined && !env[account.passwordEnv]) {
    report(`${key}.serviceAccount.passwordEnv`, `environment variable ${account.passwordEnv} is not set`);
  }
}

function checkBackends(config: Config, report: Reporter, env: NodeJS.ProcessEnv): void {
  config.authentication.backends.forEach((backend, index) => {
    const key = `authentication.backends.${index}`;
    if (backend.type === 'ldap') {
      checkConnection(report, key, backend, env);
      checkFilter(report, `${key}.searchFilter`, backend.searchFilter, ['username']);
      if (backend.groupSearch) {
        checkFilter(report, `${key}.groupSearch.filter`, backend.groupSearch.filter, ['dn', 'username']);
        if (!backend.serviceAccount) report(`${key}.groupSearch`, 'needs a serviceAccount to search groups');
      }
    } else if (backend.type === 'windows') {
      checkFile(report, `${key}.krb5Config`, backend.krb5Config);
      checkSecretFile(report, `${key}.keytab`, backend.keytab);
      if (backend.directory) {
        checkConnection(report, `${key}.directory`, backend.directory, env);
        checkFilter(report, `${key}.directory.searchFilter`, backend.directory.searchFilter, ['username', 'upn']);
      }
    }
  });
}

export function preflight(config: Config, report: Reporter, env: NodeJS.ProcessEnv): void {
  checkFile(report, 'server.tls.certFile', config.server.tls.certFile);
  checkSecretFile(report, 'server.tls.keyFile', config.server.tls.keyFile);
  checkSecretFile(report, 'database.passwordFile', config.database.passwordFile);
  checkFile(report, 'password.blocklistFile', config.password.blocklistFile);
  checkFile(report, 'cas.outboundCaFile', config.cas.outboundCaFile);
  checkBackends(config, report, env);
}
