import type { StoredTicket } from '../../tickets/registry';
import type { SsoSession } from '../../tickets/sessions';

/**
 * `code` picks the page's translated message; `reason` is the English text (REST and logs).
 * `mfaRequired`: the registered service requires a second factor, so the login must have one (step-up).
 */
export type ServiceCheck = { allowed: true; service: string; /** The registered service's name. */ name?: string; mfaRequired: boolean } | { allowed: false; code: 'bad_url' | 'not_registered'; reason: string };

/**
 * What the login and logout flow needs from the CAS protocol layer. The
 * default (`noServices`) knows no registered services, so a bare login page
 * works before the protocol layer is wired in, and never redirects anywhere.
 */
export interface ServicePort {
  /** Whether `service` is a registered application that may receive tickets (and be redirected to). */
  checkService(service: string): Promise<ServiceCheck>;
  /** Issues a service ticket for `service` under this session; returns the ticket id. */
  issueServiceTicket(session: SsoSession, service: string, fromNewLogin: boolean): Promise<string>;
  /** Called after a session ended (logout or expiry), for single logout. Must not throw or block. */
  sessionEnded(session: StoredTicket, tgtId: string | null): void;
}

export const noServices: ServicePort = {
  checkService: async () => ({ allowed: false, code: 'not_registered', reason: 'This application is not registered with the login service.' }),
  issueServiceTicket: async () => {
    throw new Error('no services are registered');
  },
  sessionEnded: () => undefined,
};

/** `service` with `name=value` appended to its query, before any fragment. */
export function appendQueryParameter(service: string, name: string, value: string): string {
  const hash = service.indexOf('#');
  const base = hash < 0 ? service : service.slice(0, hash);
  const fragment = hash < 0 ? '' : service.slice(hash);
  const sep = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${sep}${encodeURIComponent(name)}=${encodeURIComponent(value)}${fragment}`;
}
