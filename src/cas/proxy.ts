import { randomAlphanumeric } from '../shared/random';
import type { Logger } from '../shared/logger';
import { appendQueryParameter } from './login/service-port';
import { CAS_ERROR, MAX_SERVICE_LENGTH, MAX_TICKET_LENGTH, TICKET_PREFIX } from './constants';
import { TICKET_RANDOM_BYTES } from '../tickets/registry';
import { CasProtocolError, invalidRequest } from './errors';
import type { OutboundHttp } from './outbound-http';
import { checkServiceUrl, serviceMatcher } from './service-pattern';
import type { RegisteredService, ServiceRegistry } from './service-registry';
import type { CasTickets, Grant } from './tickets';

/**
 * Proxy authentication (spec §2.5.4 and §2.7): issuing a PGT through an
 * HTTPS callback during validation, and proxy tickets from a PGT.
 */
export class ProxyGranting {
  constructor(
    private readonly tickets: CasTickets,
    private readonly registry: ServiceRegistry,
    private readonly http: OutboundHttp,
    private readonly logger: Logger,
    private readonly callbackTimeoutMs: () => number,
  ) {}

  /**
   * Issues a PGT for a just-validated ticket and hands it to `pgtUrl`; returns
   * the IOU for the validation response. The PGT is stored first (the service
   * may use it before our response arrives) and revoked if the callback fails.
   */
  async grant(validated: Grant, service: RegisteredService, pgtUrl: string): Promise<string> {
    if (service.proxyCallback === null) {
      throw new CasProtocolError(CAS_ERROR.UNAUTHORIZED_SERVICE_PROXY, `The service "${service.name}" is not authorized to perform proxy authentication.`);
    }
    const url = checkServiceUrl(pgtUrl, { httpsOnly: true });
    if (!url.ok) throw new CasProtocolError(CAS_ERROR.INVALID_PROXY_CALLBACK, `The proxy callback URL ${url.reason}.`);
    if (!serviceMatcher(service.proxyCallback)(pgtUrl)) {
      throw new CasProtocolError(CAS_ERROR.INVALID_PROXY_CALLBACK, 'The proxy callback URL is not registered for this service.');
    }
    const pgtId = await this.tickets.issueProxyGrantingTicket(validated, pgtUrl, service.id);
    const iou = `${TICKET_PREFIX.proxyGrantingTicketIou}${randomAlphanumeric(TICKET_RANDOM_BYTES)}`;
    const target = new URL(appendQueryParameter(appendQueryParameter(pgtUrl, 'pgtId', pgtId), 'pgtIou', iou));
    let failure: string | null = null;
    try {
      const res = await this.http.send(target, { method: 'GET', timeoutMs: this.callbackTimeoutMs() });
      if (res.status !== 200) failure = `it answered HTTP ${res.status}`;
    } catch (error) {
      failure = (error as Error).message;
    }
    if (failure !== null) {
      await this.tickets.revoke(pgtId);
      this.logger.warn({ event: 'proxy_callback_failed', service: service.name, pgtUrl, error: failure }, 'proxy callback failed');
      throw new CasProtocolError(CAS_ERROR.INVALID_PROXY_CALLBACK, `The proxy callback could not be completed: ${failure}.`);
    }
    return iou;
  }

  /** `/proxy`: a proxy ticket for `targetService` from a PGT. */
  async proxyTicket(pgt: string | undefined, targetService: string | undefined): Promise<string> {
    if (!pgt || !targetService) throw invalidRequest("'pgt' and 'targetService' parameters are both required");
    if (pgt.length > MAX_TICKET_LENGTH || targetService.length > MAX_SERVICE_LENGTH) throw invalidRequest('A parameter is too long.');
    const grant = pgt.startsWith(TICKET_PREFIX.proxyGrantingTicket) ? await this.tickets.findProxyGrantingTicket(pgt) : null;
    if (!grant) throw new CasProtocolError(CAS_ERROR.INVALID_TICKET, `Ticket '${pgt}' not recognized`);
    // The proxying service may have lost its proxy rights (or registration) since the PGT was issued.
    const proxying = await this.registry.resolve(grant.data.serviceId);
    if (!proxying || proxying.proxyCallback === null) throw new CasProtocolError(CAS_ERROR.UNAUTHORIZED_SERVICE, 'The proxying service is no longer authorized to proxy.');
    const target = await this.registry.match(targetService);
    if (!target || !target.acceptsProxyTickets) {
      throw new CasProtocolError(CAS_ERROR.UNAUTHORIZED_SERVICE, `The service '${targetService}' is not registered to accept proxy tickets.`);
    }
    return this.tickets.issueProxyTicket(grant, targetService, target.id);
  }
}
