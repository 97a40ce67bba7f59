import type { Account } from '../accounts/account';
import { hasSecondFactor } from '../tickets/sessions';
import { ACCOUNT_ATTRIBUTES, AUTHENTICATION_ATTRIBUTES } from './constants';
import type { RegisteredService } from './service-registry';
import type { Grant } from './tickets';
import type { ReleasedAttributes } from './responses/model';

/** The one account read attribute release needs. */
export interface AccountById {
  findById(id: number): Promise<Account | null>;
}

type AccountAttribute = (typeof ACCOUNT_ATTRIBUTES)[number];

function fromAccount(account: Account, name: AccountAttribute): string | null {
  switch (name) {
    case 'displayName':
      return account.displayName;
    case 'mail':
      return account.email;
    case 'role':
      return account.role;
    case 'username':
      return account.username;
  }
}

const isAccountAttribute = (name: string): name is AccountAttribute => (ACCOUNT_ATTRIBUTES as readonly string[]).includes(name);

type AuthenticationAttribute = (typeof AUTHENTICATION_ATTRIBUTES)[number];
const isAuthenticationAttribute = (name: string): name is AuthenticationAttribute => (AUTHENTICATION_ATTRIBUTES as readonly string[]).includes(name);

/** How the ticket's session signed in, in Apereo's attribute names; `authnContextClass` only when a second factor was satisfied. */
function fromAuthentication(grant: Grant, name: AuthenticationAttribute): string[] {
  if (name === 'authnContextClass') return hasSecondFactor(grant.data) ? ['mfa'] : [];
  return grant.data.methods;
}

/**
 * The attributes a service may see: only names on its released list, taken
 * from the local account (displayName, mail, role, username) or else from the
 * directory attributes captured at login (memberOf, department...), or how
 * the session signed in (AUTHENTICATION_ATTRIBUTES). The
 * account is read only when the service is released an account attribute.
 */
export async function releasedAttributes(service: RegisteredService, grant: Grant, accounts: AccountById): Promise<ReleasedAttributes> {
  const values: Record<string, string[]> = {};
  const needsAccount = service.releasedAttributes.some(isAccountAttribute) && grant.ticket.accountId !== null;
  const account = needsAccount ? await accounts.findById(grant.ticket.accountId as number) : null;
  for (const name of service.releasedAttributes) {
    if (isAuthenticationAttribute(name)) {
      const how = fromAuthentication(grant, name);
      if (how.length > 0) values[name] = how;
      continue;
    }
    const own = account && isAccountAttribute(name) ? fromAccount(account, name) : null;
    const found = own !== null ? [own] : (grant.data.attributes[name] ?? []).filter((v): v is string => typeof v === 'string');
    if (found.length > 0) values[name] = found;
  }
  return {
    authenticationDate: grant.data.authenticatedAt,
    longTermAuthenticationRequestTokenUsed: false,
    isFromNewLogin: grant.data.fromNewLogin,
    methods: grant.data.methods,
    values,
  };
}
