/** CAS protocol names: endpoints, parameters, ticket prefixes, XML namespaces. */

export const CAS_NAMESPACE = 'http://www.yale.edu/tp/cas';

export const ENDPOINTS = {
  validate: '/cas/validate',
  serviceValidate: '/cas/serviceValidate',
  proxyValidate: '/cas/proxyValidate',
  p3ServiceValidate: '/cas/p3/serviceValidate',
  p3ProxyValidate: '/cas/p3/proxyValidate',
  proxy: '/cas/proxy',
  samlValidate: '/cas/samlValidate',
  restTickets: '/cas/v1/tickets',
} as const;

export const TICKET_PREFIX = {
  serviceTicket: 'ST-',
  proxyTicket: 'PT-',
  proxyGrantingTicket: 'PGT-',
  proxyGrantingTicketIou: 'PGTIOU-',
  logoutRequest: 'LR-',
} as const;

/** Longest ticket id accepted in a request; ours are ~60 characters, the spec recommends clients allow 256. */
export const MAX_TICKET_LENGTH = 256;
export const MAX_SERVICE_LENGTH = 4096;

/** Validation error codes (spec §2.5.3) plus the /proxy ones (§2.7.3). */
export const CAS_ERROR = {
  INVALID_REQUEST: 'INVALID_REQUEST',
  INVALID_TICKET_SPEC: 'INVALID_TICKET_SPEC',
  UNAUTHORIZED_SERVICE_PROXY: 'UNAUTHORIZED_SERVICE_PROXY',
  INVALID_PROXY_CALLBACK: 'INVALID_PROXY_CALLBACK',
  INVALID_TICKET: 'INVALID_TICKET',
  INVALID_SERVICE: 'INVALID_SERVICE',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  UNAUTHORIZED_SERVICE: 'UNAUTHORIZED_SERVICE',
  /** Apereo's code: the service requires a second factor and the ticket's session has none. */
  INVALID_AUTHENTICATION_CONTEXT: 'INVALID_AUTHENTICATION_CONTEXT',
} as const;

export type CasErrorCode = (typeof CAS_ERROR)[keyof typeof CAS_ERROR];

/** Attributes taken from the local account record; every other released name comes from the directory attributes of the session. */
export const ACCOUNT_ATTRIBUTES = ['displayName', 'mail', 'role', 'username'] as const;

/**
 * Attributes describing how the session signed in (Apereo's names): the
 * methods used (password, spnego, totp, recovery) and `mfa` when a second
 * factor was satisfied. Released like any other attribute, when listed.
 */
export const AUTHENTICATION_ATTRIBUTES = ['authenticationMethod', 'successfulAuthenticationHandlers', 'authnContextClass'] as const;
