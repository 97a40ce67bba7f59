import type { Config } from '../config/schema';
import type { TicketRegistry } from '../tickets/registry';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { ServicePort } from './login/service-port';
import type { AccountById } from './attributes';
import { OutboundHttp, loadOutboundCa } from './outbound-http';
import { ProxyGranting } from './proxy';
import { CachingServiceRegistry, type ServiceStore } from './service-registry';
import { CasServicePort } from './service-port';
import { SingleLogout } from './single-logout';
import type { SingleLogoutStore } from './single-logout-store';
import { CasTickets } from './tickets';
import { TicketValidator } from './validate';

export interface CasProtocolDeps {
  /** Where registered services are kept (the registry caches and matches them). */
  serviceStore: ServiceStore;
  singleLogoutStore: SingleLogoutStore;
  config: Config;
  clock: Clock;
  logger: Logger;
  tickets: TicketRegistry;
  /** Read when a service is released account attributes. */
  accounts: AccountById;
}

/** The CAS protocol layer, assembled once by the composition root. */
export class CasProtocol {
  readonly registry: CachingServiceRegistry;
  readonly tickets: CasTickets;
  readonly singleLogout: SingleLogout;
  readonly singleLogoutStore: SingleLogoutStore;
  readonly proxies: ProxyGranting;
  readonly validator: TicketValidator;
  readonly servicePort: ServicePort;
  private readonly http: OutboundHttp;

  constructor(deps: CasProtocolDeps) {
    const { config, clock, logger } = deps;
    this.http = new OutboundHttp(loadOutboundCa(config.cas.outboundCaFile));
    this.registry = new CachingServiceRegistry(deps.serviceStore, clock, config.cas.serviceCacheSeconds);
    this.tickets = new CasTickets(deps.tickets, clock, () => ({
      serviceTicketSeconds: config.tickets.serviceTicketLifetimeSeconds,
      proxyGrantingTicketSeconds: config.tickets.proxyGrantingTicketLifetimeSeconds,
    }));
    this.singleLogoutStore = deps.singleLogoutStore;
    this.singleLogout = new SingleLogout(this.singleLogoutStore, this.registry, this.http, clock, logger, () => config.cas.singleLogout);
    this.proxies = new ProxyGranting(this.tickets, this.registry, this.http, logger, () => config.cas.proxyCallbackTimeoutSeconds * 1000);
    this.validator = new TicketValidator(this.tickets, this.registry, deps.accounts, this.proxies, this.singleLogout);
    this.servicePort = new CasServicePort(this.registry, this.tickets, this.singleLogout);
    this.singleLogout.start();
  }

  async stop(): Promise<void> {
    await this.singleLogout.stop();
    this.http.close();
  }
}
