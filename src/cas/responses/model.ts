import type { CasErrorCode } from '../constants';

/** CAS 3.0 `<cas:attributes>`: the three protocol attributes, then the released user attributes. */
export interface ReleasedAttributes {
  authenticationDate: number;
  longTermAuthenticationRequestTokenUsed: boolean;
  isFromNewLogin: boolean;
  /** How the session signed in (password, totp, webauthn, passkey…): SAML 1.1's AuthenticationMethod, always. */
  methods: string[];
  /** Released user attributes by (XML-safe) name; several values = repeated element / JSON array. */
  values: Record<string, string[]>;
}

export interface AuthenticationSuccess {
  user: string;
  /** Present on the CAS 3.0 endpoints only. */
  attributes?: ReleasedAttributes;
  proxyGrantingTicketIou?: string;
  /** Proxy chain, most recent first; present only when the ticket was a proxy ticket. */
  proxies?: string[];
}

/** The one choice inside `<cas:serviceResponse>` (schema ServiceResponseType). */
export type ServiceResponse =
  | { kind: 'authenticationSuccess'; success: AuthenticationSuccess }
  | { kind: 'authenticationFailure'; code: CasErrorCode; description: string }
  | { kind: 'proxySuccess'; proxyTicket: string }
  | { kind: 'proxyFailure'; code: CasErrorCode; description: string };

export type ResponseFormat = 'XML' | 'JSON';
