/**
 * Windows login names: `DOMAIN\user`, `user@realm` (UPN / Kerberos form) or
 * a bare `user` in the default realm. The result is the Kerberos principal
 * `user@REALM`, also used as the local account name.
 */

export interface WindowsRealm {
  realm: string;
  domain?: string;
  realmAliases: string[];
  bareNames: boolean;
}

export type ParsedLoginName =
  | {
      kind: 'mine';
      user: string;
      realm: string;
      principal: string;
      /** The name as typed when it has the `user@suffix` form: a UPN, which may name another account than `user` (see resolveUsername). */
      upn?: string;
    }
  /** DOMAIN\user for a domain that is not configured: refused, never tried elsewhere. */
  | { kind: 'unknown_domain'; domain: string }
  /** The user part cannot be a Windows account name. */
  | { kind: 'malformed'; problem: string; qualified: boolean }
  /** Not a Windows-form name for this realm (e.g. an e-mail address): other backends may answer. */
  | { kind: 'not_mine' };

/** sAMAccountName is at most 20 characters; UPN prefixes may be longer. */
const MAX_USER_PART = 104;
// Kerberos name separators and characters AD forbids in account names.
const FORBIDDEN_IN_USER = /[/\\@"[\]:;|=+*?<>,]/;

export function parseWindowsLoginName(input: string, realm: WindowsRealm): ParsedLoginName {
  const knownRealm = (suffix: string) => {
    const upper = suffix.toUpperCase();
    return upper === realm.realm || realm.realmAliases.includes(upper);
  };
  let user: string;
  let upn: string | undefined;
  const qualified = input.includes('\\') || input.includes('@');
  const backslash = input.indexOf('\\');
  if (backslash >= 0) {
    const domain = input.slice(0, backslash).toUpperCase();
    user = input.slice(backslash + 1);
    if (domain.length === 0) return { kind: 'malformed', problem: 'the domain before "\\" is empty', qualified: true };
    if (domain !== realm.domain && !knownRealm(domain)) return { kind: 'unknown_domain', domain: input.slice(0, backslash) };
  } else if (input.includes('@')) {
    const at = input.lastIndexOf('@');
    if (!knownRealm(input.slice(at + 1))) return { kind: 'not_mine' };
    user = input.slice(0, at);
    upn = input;
  } else {
    if (!realm.bareNames) return { kind: 'not_mine' };
    user = input;
  }
  if (user.length === 0) return { kind: 'malformed', problem: 'the user name is empty', qualified };
  if (user.length > MAX_USER_PART) return { kind: 'malformed', problem: `the user name is longer than ${MAX_USER_PART} characters`, qualified };
  // eslint-disable-next-line no-control-regex -- control characters are never part of an account name
  if (FORBIDDEN_IN_USER.test(user) || /[\u0000-\u001f\u007f]/.test(user) || user.startsWith('-')) {
    return { kind: 'malformed', problem: 'the user name contains characters a Windows account name cannot have', qualified };
  }
  return { kind: 'mine', user, realm: realm.realm, principal: `${user}@${realm.realm}`, ...(upn ? { upn } : {}) };
}

/** `HTTP/host@REALM` → GSS host-based service name `HTTP@host` (what the kerberos package expects). */
export function gssServiceName(servicePrincipal: string): string {
  const match = /^([^/]+)\/([^@]+)@/.exec(servicePrincipal);
  if (!match) throw new Error(`not a service principal: ${servicePrincipal}`);
  return `${match[1]}@${match[2]}`;
}
