/**
 * Step 1 of /cas/login and /cas/logout, parse: the service request the
 * query (and a posted form) carry. Only shape is checked here; whether the
 * service is registered is the next step's question.
 */
import { InputError } from '../../shared/errors';
import { Params } from '../../http/params';
import { MAX_SERVICE_LENGTH } from '../constants';
import { isSet } from '../routes';

export interface ServiceRequest {
  service?: string;
  /** The registered service's name, once checked (for its display name on the page). */
  name?: string;
  renew: boolean;
  gateway: boolean;
  method: 'GET' | 'POST';
  /** `authn_method=mfa`, or a service that requires it: this login must use a second factor. */
  mfa: boolean;
}

const SERVICE_REQUEST_PARAMETERS = ['service', 'renew', 'gateway', 'method', 'authn_method'] as const;

/**
 * A form post's service request: Apereo's login form posts to the URL that
 * carries `service` (and renew, gateway, method) in its query, older forms
 * send them as fields. Either way works; both at once must agree.
 */
export function postedServiceParams(query: Params, form: Params): Params {
  const merged = new Map<string, string>();
  for (const name of SERVICE_REQUEST_PARAMETERS) {
    const fromQuery = query.get(name);
    const fromForm = form.get(name);
    if (fromQuery !== undefined && fromForm !== undefined && fromQuery !== fromForm) {
      throw new InputError(`The form and its URL name different values for "${name}"; sign in again from the application's link.`);
    }
    const value = fromForm ?? fromQuery;
    if (value !== undefined) merged.set(name, value);
  }
  return Params.of(merged);
}

export function readServiceRequest(params: Params): ServiceRequest {
  const service = params.get('service');
  if (service !== undefined && service.length > MAX_SERVICE_LENGTH) throw new InputError(`service is longer than ${MAX_SERVICE_LENGTH} characters.`);
  const method = (params.get('method') ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'POST') throw new InputError('method must be GET or POST.');
  const renew = isSet(params.get('renew'));
  const authnMethod = params.get('authn_method');
  if (authnMethod !== undefined && authnMethod !== '' && authnMethod !== 'mfa') throw new InputError('authn_method must be "mfa" (a second factor) when given.');
  // The spec: gateway is ignored when renew is set.
  return { service: service === '' ? undefined : service, renew, gateway: !renew && isSet(params.get('gateway')), method, mfa: authnMethod === 'mfa' };
}

/** A request resumed from a signed page token (password change, notice): never renew or gateway. */
export function resumedRequest(service: unknown, method: unknown, mfa: boolean): ServiceRequest {
  return { service: typeof service === 'string' ? service : undefined, renew: false, gateway: false, method: method === 'POST' ? 'POST' : 'GET', mfa };
}
