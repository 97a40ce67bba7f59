import type { LdapBackendConfig } from '../../config/backends-schema';
import { ConfigError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { AuthenticationBackend, BackendOutcome, FailureReason, PasswordCredential } from '../backend';
import type { Deadline } from './deadline';
import { LdapDirectory, directoryPrincipal, mapDirectoryEntry, requestedAttributes } from './directory';
import type { BindRefused, DirectoryEntry, LdapConnection } from './ldap-connection';
import { FilterTemplate, fillDnTemplate } from './ldap-filter';

/**
 * Active Directory bind sub-codes ("... data 533, v1db1"). AD reports them
 * only after checking the password (52e otherwise), so a state never leaks
 * to someone who does not know the password.
 */
export function reasonForBindRefusal(refusal: BindRefused): FailureReason {
  // Any other result (34 invalidDNSyntax, 53 unwillingToPerform...) is a failure of this attempt: counted like a wrong password.
  if (refusal.resultCode !== 49) return 'bad_credentials';
  switch (refusal.adDataCode) {
    case '525':
      return 'unknown_user';
    case '530': // not permitted to log on at this time
    case '531': // not permitted to log on at this workstation
    case '533':
      return 'account_disabled';
    case '532':
      return 'password_expired';
    case '701':
      return 'account_expired';
    case '773':
      return 'password_must_change';
    default:
      // 52e (wrong password), 775 (locked by the directory), plain OpenLDAP 49...
      return 'bad_credentials';
  }
}

/**
 * An LDAP directory (OpenLDAP, Active Directory via LDAP, ...): search-then-bind
 * with a service account, or direct bind with a DN/UPN template.
 */
export class LdapBackend implements AuthenticationBackend {
  readonly name: string;
  readonly lockout: boolean;
  private readonly directory: LdapDirectory;
  private readonly userFilter: FilterTemplate;
  private readonly groupFilter: FilterTemplate | null;
  private readonly attributes: string[];

  constructor(
    private readonly config: LdapBackendConfig,
    env: NodeJS.ProcessEnv,
    private readonly logger: Logger,
    configPath: string,
  ) {
    this.name = config.name;
    this.lockout = config.lockout;
    this.userFilter = parseTemplate(config.searchFilter, ['username'], `${configPath}.searchFilter`);
    this.groupFilter = config.groupSearch ? parseTemplate(config.groupSearch.filter, ['dn', 'username'], `${configPath}.groupSearch.filter`) : null;
    if (config.groupSearch && !config.serviceAccount) throw new ConfigError([`config: ${configPath}.groupSearch: needs a serviceAccount to search groups`]);
    this.attributes = requestedAttributes(config.attributes);
    this.directory = new LdapDirectory(config.name, config, env, logger, configPath);
  }

  claims(): 'yes' {
    return 'yes';
  }

  canonicalUsername(username: string): string {
    return username;
  }

  async authenticate({ username, password }: PasswordCredential): Promise<BackendOutcome> {
    // An empty password would make the bind anonymous, which "succeeds": refuse it before any directory traffic.
    if (password.length === 0) return { ok: false, reason: 'bad_credentials' };
    // One deadline for the whole login: search, bind and group search share it.
    const deadline = this.directory.newDeadline();
    return this.config.bindDnTemplate !== undefined ? this.directBind(username, password, this.config.bindDnTemplate, deadline) : this.searchThenBind(username, password, deadline);
  }

  private async searchThenBind(username: string, password: string, deadline: Deadline): Promise<BackendOutcome> {
    const base = this.config.searchBase as string;
    const entries = await this.directory.search(
      base,
      {
        scope: this.config.searchScope,
        filter: this.userFilter.render({ username }),
        attributes: this.attributes,
        sizeLimit: 2,
      },
      deadline,
    );
    if (entries.length !== 1) {
      if (entries.length > 1) this.logger.warn({ event: 'ldap_ambiguous_user', backend: this.name, filter: this.userFilter.describe({ username }) }, 'LDAP user filter matched more than one entry; refusing');
      return { ok: false, reason: 'unknown_user' };
    }
    // The DN exactly as the directory sent it: re-serialising it could drop escapes (uid=back\5Cslash).
    const entry = entries[0];
    const bound = await this.directory.bindAs(entry.dn, password, async () => undefined, deadline);
    if (!bound.ok) return this.refused(bound, entry.dn);
    return this.success(username, entry, deadline);
  }

  private async directBind(username: string, password: string, template: string, deadline: Deadline): Promise<BackendOutcome> {
    const bindName = fillDnTemplate(template, { username });
    const bound = await this.directory.bindAs(bindName, password, (connection) => this.readOwnEntry(connection, username, bindName), deadline);
    if (!bound.ok) return this.refused(bound, bindName);
    return this.success(username, bound.value ?? { dn: bindName, attributes: new Map() }, deadline);
  }

  /** A refused bind: the failure reason, with the LDAP result for the audit; anything but 49 is also logged. */
  private refused(refusal: BindRefused, bindName: string): BackendOutcome {
    if (refusal.resultCode !== 49) {
      this.logger.warn(
        { event: 'ldap_bind_result', backend: this.name, dn: bindName, resultCode: refusal.resultCode, result: refusal.resultName, diagnostic: refusal.message },
        `directory "${this.name}" answered the bind of ${bindName} with LDAP result ${refusal.resultCode} (${refusal.resultName}): ${refusal.message}; counted as a failed attempt`,
      );
    }
    return { ok: false, reason: reasonForBindRefusal(refusal), directoryResult: { code: refusal.resultCode, name: refusal.resultName, message: refusal.message } };
  }

  /** After a direct bind: the user's own entry, read with the user's own rights. */
  private async readOwnEntry(connection: LdapConnection, username: string, bindName: string): Promise<DirectoryEntry | null> {
    if (this.config.searchBase) {
      const entries = await connection.search(this.config.searchBase, { scope: this.config.searchScope, filter: this.userFilter.render({ username }), attributes: this.attributes, sizeLimit: 2 });
      return entries.length === 1 ? entries[0] : null;
    }
    // A DN template: read that entry. (A UPN template without searchBase gives no attributes.)
    if (!bindName.includes('=')) return null;
    const entries = await connection.search(bindName, { scope: 'base', filter: '(objectClass=*)', attributes: this.attributes });
    return entries[0] ?? null;
  }

  private async success(username: string, entry: DirectoryEntry, deadline: Deadline): Promise<BackendOutcome> {
    let searchedGroups: string[] = [];
    if (this.config.groupSearch && this.groupFilter) {
      const filter = this.groupFilter.render({ dn: entry.dn, username });
      const groups = await this.directory.search(this.config.groupSearch.base, { scope: 'sub', filter, attributes: ['1.1'] }, deadline);
      searchedGroups = groups.map((g) => g.dn);
    }
    const details = mapDirectoryEntry(entry, this.config.attributes, this.config.groupRoles, searchedGroups);
    return { ok: true, principal: directoryPrincipal(username, this.name, entry.dn, details) };
  }

  async startupCheck(): Promise<void> {
    await this.directory.probe();
  }

  async close(): Promise<void> {
    this.directory.close();
  }
}

function parseTemplate(text: string, allowed: string[], key: string): FilterTemplate {
  try {
    return FilterTemplate.parse(text, allowed);
  } catch (error) {
    throw new ConfigError([`config: ${key}: ${(error as Error).message}`]);
  }
}
