import type { Role } from '../accounts/account';

/**
 * The contract every authentication backend (internal database, LDAP,
 * Windows/Kerberos) implements. Three outcomes, as in Apereo CAS:
 *  - success: `{ ok: true, principal }`
 *  - failure: `{ ok: false, reason }` — an expected answer, not an exception
 *  - indeterminate (the store could not be asked): throw UnavailableError.
 * Backends never render HTTP and never decide lockout; the login service does.
 */

export interface PasswordCredential {
  username: string;
  password: string;
}

export interface Principal {
  /** The name the account is known by locally (canonical form chosen by the backend). */
  username: string;
  /** Backend name that vouched for it; stored as the account's source. */
  source: string;
  /** Directory identity (DN, UPN), if any. */
  externalId?: string;
  displayName?: string;
  email?: string;
  /** Released to services through the CAS protocol, by attribute name. */
  attributes: Record<string, string[]>;
  /** Role the directory grants through group membership (still subject to the administrator limit). */
  directoryRole?: Role;
}

export type FailureReason =
  | 'bad_credentials'
  | 'unknown_user'
  | 'account_disabled'
  | 'account_expired'
  | 'password_expired'
  | 'password_must_change';

/** What a directory answered to a refused bind, kept for the audit trail. */
export interface DirectoryResult {
  /** LDAP result code (49 invalidCredentials, 34 invalidDNSyntax...). */
  code: number;
  name: string;
  /** The server's diagnostic message (AD: "... data 52e ..."). */
  message: string;
}

export type BackendOutcome =
  | { ok: true; principal: Principal; upgradeHash?: { from: string; to: string } }
  | { ok: false; reason: FailureReason; directoryResult?: DirectoryResult };

export interface AuthenticationBackend {
  /** Unique name from config ("internal", "ldap", "corp-ldap", "windows"). */
  readonly name: string;
  /** Whether failures against this backend count towards lockout. */
  readonly lockout: boolean;
  /**
   * Whether this backend should be asked about a name it has no local account
   * for: 'only' claims the name exclusively (DOMAIN\user for Windows), 'yes'
   * means try it in order, 'no' means skip it.
   */
  claims(username: string): 'only' | 'yes' | 'no';
  /** The local account name a login name maps to (e.g. SAMDOM\alice → alice@SAMDOM.TEST). */
  canonicalUsername(username: string): string;
  /**
   * Like canonicalUsername, for backends that must ask their directory which
   * account a name form means (a Windows UPN can name an account whose
   * sAMAccountName differs). Throws UnavailableError when it cannot ask.
   */
  resolveUsername?(username: string): Promise<string>;
  authenticate(credential: PasswordCredential): Promise<BackendOutcome>;
  /** Throws UnavailableError when the backend cannot work (used by readiness checks). */
  startupCheck(): Promise<void>;
  close(): Promise<void>;
}
