import { hasSecondFactor } from '../tickets/sessions';
import { type AccountById, releasedAttributes } from './attributes';
import { CAS_ERROR, MAX_SERVICE_LENGTH, MAX_TICKET_LENGTH, TICKET_PREFIX } from './constants';
import { CasProtocolError, invalidRequest, invalidTicket } from './errors';
import type { ProxyGranting } from './proxy';
import type { AuthenticationSuccess } from './responses/model';
import type { ServiceRegistry } from './service-registry';
import type { SingleLogout } from './single-logout';
import type { CasTickets, Grant } from './tickets';

export interface ValidationRequest {
  service?: string;
  ticket?: string;
  pgtUrl?: string;
  renew: boolean;
}

export interface ValidationOptions {
  /** /proxyValidate and /p3/proxyValidate accept proxy tickets; the others refuse them. */
  acceptProxyTickets: boolean;
  /** CAS 3.0 endpoints (and SAML) release attributes. */
  releaseAttributes: boolean;
}

/**
 * Ticket validation shared by every validation endpoint. Steps, in order:
 * required parameters → ticket kind → consume (single use, whatever the
 * outcome) → service match → still registered → renew → second factor if the
 * service requires one → proxy callback →
 * attributes → remember the service for single logout.
 */
export class TicketValidator {
  constructor(
    private readonly tickets: CasTickets,
    private readonly registry: ServiceRegistry,
    private readonly accounts: AccountById,
    private readonly proxies: ProxyGranting,
    private readonly singleLogout: SingleLogout,
  ) {}

  async validate(request: ValidationRequest, options: ValidationOptions): Promise<AuthenticationSuccess & { grant: Grant }> {
    const { service, ticket, pgtUrl } = request;
    if (!service || !ticket) throw invalidRequest("'service' and 'ticket' parameters are both required");
    if (service.length > MAX_SERVICE_LENGTH) throw invalidRequest(`'service' is longer than ${MAX_SERVICE_LENGTH} characters`);
    if (ticket.length > MAX_TICKET_LENGTH) throw invalidTicket('Ticket not recognized (too long)');
    if (pgtUrl !== undefined && pgtUrl.length > MAX_SERVICE_LENGTH) throw invalidRequest(`'pgtUrl' is longer than ${MAX_SERVICE_LENGTH} characters`);

    const kind = ticket.startsWith(TICKET_PREFIX.serviceTicket) ? 'ST' : ticket.startsWith(TICKET_PREFIX.proxyTicket) ? 'PT' : null;
    if (kind === null) throw invalidTicket(`Ticket '${ticket}' not recognized`);
    // Consumed before any other check: one validation attempt per ticket, successful or not.
    const grant = await this.tickets.consume(ticket, kind);
    if (kind === 'PT' && !options.acceptProxyTickets) {
      throw new CasProtocolError(CAS_ERROR.INVALID_TICKET_SPEC, `Ticket '${ticket}' is a proxy ticket; proxy tickets are validated at /proxyValidate, not here.`);
    }
    if (!grant) throw invalidTicket(`Ticket '${ticket}' not recognized`);
    if (grant.ticket.service !== service) {
      throw new CasProtocolError(CAS_ERROR.INVALID_SERVICE, `Ticket '${ticket}' was not issued for the service '${service}'; the ticket is now invalid.`);
    }
    const registered = await this.registry.resolve(grant.data.serviceId);
    if (!registered) throw new CasProtocolError(CAS_ERROR.INVALID_SERVICE, `The service '${service}' is no longer registered.`);
    if (request.renew && !grant.data.fromNewLogin) {
      throw invalidTicket(`Ticket '${ticket}' did not come from an initial login and renew was requested.`);
    }
    if (registered.mfa === 'required' && !hasSecondFactor(grant.data)) {
      throw new CasProtocolError(
        CAS_ERROR.INVALID_AUTHENTICATION_CONTEXT,
        `The service '${registered.name}' requires a second factor and ticket '${ticket}' comes from a sign-in without one; send the user to /cas/login again to add it.`,
      );
    }

    const proxyGrantingTicketIou = pgtUrl !== undefined && pgtUrl !== '' ? await this.proxies.grant(grant, registered, pgtUrl) : undefined;
    const attributes = options.releaseAttributes ? await releasedAttributes(registered, grant, this.accounts) : undefined;
    await this.singleLogout.recordParticipant(registered, grant.ticket.tgtKey, service, ticket, grant.data.tgtExpiresAt);
    return {
      grant,
      user: grant.ticket.principal,
      ...(attributes ? { attributes } : {}),
      ...(proxyGrantingTicketIou ? { proxyGrantingTicketIou } : {}),
      ...(kind === 'PT' ? { proxies: grant.data.proxies } : {}),
    };
  }
}
