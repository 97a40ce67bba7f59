import { accessSync, constants } from 'node:fs';
import type { WindowsBackendConfig } from '../../config/backends-schema';
import { ConfigError, InputError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { usernameKey } from '../../shared/username';
import type { AuthenticationBackend, BackendOutcome, FailureReason, PasswordCredential, Principal } from '../backend';
import { LdapDirectory, directoryPrincipal, mapDirectoryEntry, requestedAttributes } from '../ldap/directory';
import { reasonForBindRefusal } from '../ldap/ldap-backend';
import { FilterTemplate } from '../ldap/ldap-filter';
import type { DirectoryEntry } from '../ldap/ldap-connection';
import { KerberosAcceptor } from './kerberos-acceptor';
import { type KerberosVerdict, verifyKerberosPassword } from './kerberos-password';
import { type ParsedLoginName, gssServiceName, parseWindowsLoginName } from './login-name';

/** Normal user accounts (sAMAccountType SAM_NORMAL_USER_ACCOUNT, so no computers) with the UPN, or else the sAMAccountName. */
const IDENTITY_FILTER = FilterTemplate.parse('(&(sAMAccountType=805306368)(|(userPrincipalName={{upn}})(sAMAccountName={{sam}})))', ['upn', 'sam']);

export interface AcceptedNegotiation {
  /** Client principal, user@REALM. */
  clientPrincipal: string;
  /** Token for the client's mutual authentication (WWW-Authenticate: Negotiate <token>), if any. */
  responseToken?: string;
}

/**
 * Windows accounts (Active Directory, or any Kerberos realm): passwords are
 * checked with Kerberos against the realm's KDC, and the KDC's answer is
 * verified with our service keytab. An optional AD LDAP lookup (service
 * account over LDAPS/StartTLS) supplies attributes, groups and the precise
 * account state when the KDC only says "revoked".
 *
 * Account states: the KDC says "credentials revoked" for disabled, expired
 * and locked accounts alike, and only after checking the password (Samba
 * and AD check preauthentication first). With `directory` configured, we
 * then bind to AD as the user's UPN with the same password: AD answers with
 * a sub-code (533 disabled, 701 expired, 773 must change) — again only for
 * the right password — so the message is exact and never leaks a state to
 * someone guessing. Without `directory`, revoked → "disabled" (generic).
 */
export class WindowsBackend implements AuthenticationBackend {
  readonly name: string;
  readonly lockout: boolean;
  readonly spnegoEnabled: boolean;
  private readonly directory: LdapDirectory | null;
  private readonly userFilter: FilterTemplate | null;
  /** SPNEGO acceptance (KRB5_CONFIG/KRB5_KTNAME from this config), started on first use. */
  private readonly acceptor: KerberosAcceptor;

  constructor(
    private readonly config: WindowsBackendConfig,
    env: NodeJS.ProcessEnv,
    private readonly logger: Logger,
    configPath: string,
  ) {
    this.name = config.name;
    this.lockout = config.lockout;
    this.spnegoEnabled = config.spnego;
    const problems: string[] = [];
    for (const key of ['krb5Config', 'keytab'] as const) {
      try {
        accessSync(config[key], constants.R_OK);
      } catch {
        problems.push(`config: ${configPath}.${key}: cannot read ${config[key]}`);
      }
    }
    if (!config.servicePrincipal.toUpperCase().endsWith(`@${config.realm}`)) problems.push(`config: ${configPath}.servicePrincipal: must be in realm ${config.realm}`);
    if (problems.length > 0) throw new ConfigError(problems);
    this.acceptor = new KerberosAcceptor({ KRB5_CONFIG: config.krb5Config, KRB5_KTNAME: `FILE:${config.keytab}` }, config.kerberosTimeoutSeconds * 1000);
    if (config.directory) {
      try {
        this.userFilter = FilterTemplate.parse(config.directory.searchFilter, ['username', 'upn']);
      } catch (error) {
        throw new ConfigError([`config: ${configPath}.directory.searchFilter: ${(error as Error).message}`]);
      }
      this.directory = new LdapDirectory(config.name, config.directory, env, logger, `${configPath}.directory`);
    } else {
      this.directory = null;
      this.userFilter = null;
    }
  }

  private parse(username: string): ParsedLoginName {
    return parseWindowsLoginName(username, this.config);
  }

  claims(username: string): 'only' | 'yes' | 'no' {
    const parsed = this.parse(username);
    switch (parsed.kind) {
      case 'mine':
        return username.includes('\\') || username.includes('@') ? 'only' : 'yes';
      case 'unknown_domain':
        return 'only';
      case 'malformed':
        return parsed.qualified ? 'only' : 'no';
      case 'not_mine':
        return 'no';
    }
  }

  /** user@REALM; a DOMAIN\user for another domain or a malformed qualified name is refused here, clearly. */
  canonicalUsername(username: string): string {
    const parsed = this.parse(username);
    if (parsed.kind === 'mine') return parsed.principal;
    if (parsed.kind === 'unknown_domain') {
      throw new InputError(`The domain "${parsed.domain}" is not one this service signs in. Use ${this.config.domain ? `${this.config.domain}\\name or ` : ''}name@${this.config.realm}.`);
    }
    if (parsed.kind === 'malformed') throw new InputError(`That is not a valid Windows sign-in name: ${parsed.problem}.`);
    return username;
  }

  /**
   * The account a name means, as sAMAccountName@REALM: `DOMAIN\sam` and a
   * bare name are sAMAccountNames already; `name@suffix` is looked up as
   * Windows does (an account with that userPrincipalName, else the one with
   * sAMAccountName `name`), so a UPN such as frank.garcia@REALM or
   * user@corp.example reaches the account fgarcia@REALM. Names the directory
   * does not know (or any name, without `directory`) keep their plain form.
   */
  async resolveUsername(username: string): Promise<string> {
    const parsed = this.parse(username);
    if (parsed.kind !== 'mine') return this.canonicalUsername(username);
    if (parsed.upn === undefined || !this.directory || !this.config.directory) return parsed.principal;
    const entries = await this.directory.search(this.config.directory.searchBase, {
      scope: 'sub',
      filter: IDENTITY_FILTER.render({ upn: parsed.upn, sam: parsed.user }),
      attributes: ['sAMAccountName', 'userPrincipalName'],
      sizeLimit: 2,
    });
    const value = (entry: DirectoryEntry, name: string) => entry.attributes.get(name.toLowerCase())?.[0] ?? '';
    const match =
      entries.find((e) => usernameKey(value(e, 'userPrincipalName')) === usernameKey(parsed.upn as string)) ??
      entries.find((e) => usernameKey(value(e, 'sAMAccountName')) === usernameKey(parsed.user));
    const sam = match ? value(match, 'sAMAccountName') : '';
    return sam ? `${sam}@${this.config.realm}` : parsed.principal;
  }

  async authenticate({ username, password }: PasswordCredential): Promise<BackendOutcome> {
    const parsed = this.parse(username);
    if (parsed.kind !== 'mine') return { ok: false, reason: 'unknown_user' };
    // Empty: nothing to check. CR/LF/NUL: kinit reads one C-string line, so the rest would be ignored.
    // eslint-disable-next-line no-control-regex -- exactly these control characters are refused
    if (password.length === 0 || /[\r\n\u0000]/.test(password)) return { ok: false, reason: 'bad_credentials' };
    // kinit/kvno get their settings explicitly, so password checks need no process-wide environment.
    const verdict = await verifyKerberosPassword(parsed.principal, password, {
      krb5Config: this.config.krb5Config,
      keytab: this.config.keytab,
      servicePrincipal: this.config.servicePrincipal,
      timeoutMs: this.config.kerberosTimeoutSeconds * 1000,
    });
    if (verdict === 'ok') return { ok: true, principal: await this.principalFor(parsed.user) };
    return { ok: false, reason: await this.failureReason(verdict, parsed.principal, password) };
  }

  private async failureReason(verdict: Exclude<KerberosVerdict, 'ok'>, principal: string, password: string): Promise<FailureReason> {
    switch (verdict) {
      case 'bad_password':
        return 'bad_credentials';
      case 'unknown_principal':
        return 'unknown_user';
      case 'password_expired':
        return 'password_must_change';
      case 'revoked': {
        if (!this.directory) return 'account_disabled';
        // Ask AD which state it is: a bind with the same (KDC-verified) password gets the precise sub-code.
        const bound = await this.directory.bindAs(principal, password, async () => undefined);
        if (bound.ok) return 'account_disabled';
        const reason = reasonForBindRefusal(bound);
        return reason === 'bad_credentials' || reason === 'unknown_user' ? 'account_disabled' : reason;
      }
    }
  }

  /** The principal for a Kerberos-authenticated user (password or SPNEGO), with directory attributes if configured. */
  async principalFor(user: string): Promise<Principal> {
    const principalName = `${user}@${this.config.realm}`;
    if (!this.directory || !this.userFilter || !this.config.directory) return directoryPrincipal(principalName, this.name, undefined, { attributes: {} });
    const entries = await this.directory.search(this.config.directory.searchBase, {
      scope: 'sub',
      filter: this.userFilter.render({ username: user, upn: principalName }),
      attributes: requestedAttributes(this.config.attributes),
      sizeLimit: 2,
    });
    if (entries.length !== 1) {
      this.logger.warn({ event: 'windows_directory_lookup', backend: this.name, principal: principalName, matches: entries.length }, 'Kerberos user not found (uniquely) in the directory; no attributes or group roles');
      return directoryPrincipal(principalName, this.name, undefined, mapDirectoryEntry({ dn: '', attributes: new Map() }, this.config.attributes, this.config.groupRoles));
    }
    return directoryPrincipal(principalName, this.name, entries[0].dn, mapDirectoryEntry(entries[0], this.config.attributes, this.config.groupRoles));
  }

  /**
   * The login name in a Kerberos client principal from SPNEGO (user@REALM,
   * or the enterprise form upn\@suffix@REALM as the UPN); null if it is not
   * a user of our realm.
   */
  loginNameOf(clientPrincipal: string): string | null {
    const at = clientPrincipal.lastIndexOf('@');
    if (at <= 0 || clientPrincipal.slice(at + 1) !== this.config.realm) return null;
    const name = clientPrincipal.slice(0, at).includes('\\@') ? clientPrincipal.slice(0, at).replace('\\@', '@') : clientPrincipal;
    return this.parse(name).kind === 'mine' ? name : null;
  }

  /** The sAMAccountName part of a resolved sam@REALM name. */
  userOf(resolvedName: string): string {
    const parsed = this.parse(resolvedName);
    if (parsed.kind !== 'mine') throw new Error(`not a name of realm ${this.config.realm}: ${resolvedName}`);
    return parsed.user;
  }

  /** Accepts one SPNEGO token with the service keytab. Throws (with the GSS message) when it is not acceptable. */
  async acceptNegotiateToken(token: string): Promise<AcceptedNegotiation> {
    const accepted = await this.acceptor.accept(gssServiceName(this.config.servicePrincipal), token);
    if (!accepted.complete || !accepted.username) throw new Error('the Negotiate exchange needs more steps than Kerberos does (not a Kerberos SPNEGO token)');
    return { clientPrincipal: accepted.username, ...(accepted.response ? { responseToken: accepted.response } : {}) };
  }

  async startupCheck(): Promise<void> {
    if (this.spnegoEnabled) await this.acceptor.probe();
    await this.directory?.probe();
  }

  async close(): Promise<void> {
    this.directory?.close();
    await this.acceptor.close();
  }
}
