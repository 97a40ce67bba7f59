import type { Clock } from '../shared/clock';
import { type StoredTicket, type TicketKind, type TicketRegistry, newTicketId } from '../tickets/registry';
import { type SsoSession, methodsOf } from '../tickets/sessions';
import { TICKET_PREFIX } from './constants';

/** What a service, proxy or proxy-granting ticket carries from the session that issued it. */
export interface GrantData {
  /** Registered service the ticket was issued for (the proxying service for a PGT). */
  serviceId: number;
  /** True only for a service ticket issued by a login that just checked the password (`renew`). */
  fromNewLogin: boolean;
  /** Epoch ms of the password check that started the session. */
  authenticatedAt: number;
  /** How the session signed in: password or spnego, then any second factor (totp, recovery...). */
  methods: string[];
  /** Directory attributes of the session, by name. */
  attributes: Record<string, string[]>;
  /** Proxy callback URLs this authentication went through, most recent first (empty for a service ticket). */
  proxies: string[];
  /** Hard expiry of the session; nothing issued under it outlives it. */
  tgtExpiresAt: number;
}

export interface Grant {
  ticket: StoredTicket;
  data: GrantData;
}

export interface TicketLifetimes {
  serviceTicketSeconds: number;
  proxyGrantingTicketSeconds: number;
}


function readGrant(ticket: StoredTicket): Grant {
  const d = ticket.data as Partial<GrantData>;
  return {
    ticket,
    data: {
      serviceId: Number(d.serviceId),
      fromNewLogin: d.fromNewLogin === true,
      authenticatedAt: Number(d.authenticatedAt ?? ticket.createdAt),
      // Tickets from before second factors carry no methods: they were password sign-ins.
      methods: Array.isArray(d.methods) ? d.methods.filter((m): m is string => typeof m === 'string') : ['password'],
      attributes: d.attributes ?? {},
      proxies: Array.isArray(d.proxies) ? d.proxies : [],
      tgtExpiresAt: Number(d.tgtExpiresAt ?? ticket.expiresAt),
    },
  };
}

/**
 * Service, proxy and proxy-granting tickets on top of the shared ticket
 * registry (so every instance sees them). Ids are prefix + 256 random bits
 * over [A-Za-z0-9]; the registry stores only their hash.
 */
export class CasTickets {
  constructor(
    private readonly registry: TicketRegistry,
    private readonly clock: Clock,
    private readonly lifetimes: () => TicketLifetimes,
  ) {}

  async issueServiceTicket(session: SsoSession, service: string, serviceId: number, fromNewLogin: boolean): Promise<string> {
    const tgt = session.ticket;
    const data: GrantData = {
      serviceId,
      fromNewLogin,
      authenticatedAt: session.authentication.authenticatedAt,
      methods: methodsOf(session.authentication),
      attributes: session.authentication.attributes ?? {},
      proxies: [],
      tgtExpiresAt: tgt.expiresAt,
    };
    return this.add('ST', TICKET_PREFIX.serviceTicket, tgt, tgt.key, service, data, this.lifetimes().serviceTicketSeconds);
  }

  /** Single use: of concurrent callers exactly one gets the ticket; null when unknown, expired or already used. */
  async consume(id: string, kind: 'ST' | 'PT'): Promise<Grant | null> {
    const ticket = await this.registry.consume(id, [kind], this.clock.now());
    return ticket ? readGrant(ticket) : null;
  }

  /** Stores a PGT for an authentication just validated (before the callback: the service may use it at once). */
  async issueProxyGrantingTicket(from: Grant, pgtUrl: string, serviceId: number): Promise<string> {
    const data: GrantData = { ...from.data, serviceId, fromNewLogin: false, proxies: [pgtUrl, ...from.data.proxies] };
    return this.add('PGT', TICKET_PREFIX.proxyGrantingTicket, from.ticket, from.ticket.key, pgtUrl, data, this.lifetimes().proxyGrantingTicketSeconds);
  }

  async revoke(id: string): Promise<void> {
    await this.registry.consume(id, ['PGT'], this.clock.now());
  }

  async findProxyGrantingTicket(id: string): Promise<Grant | null> {
    const ticket = await this.registry.get(id, 'PGT', this.clock.now());
    return ticket ? readGrant(ticket) : null;
  }

  async issueProxyTicket(pgt: Grant, targetService: string, targetServiceId: number): Promise<string> {
    const data: GrantData = { ...pgt.data, serviceId: targetServiceId, fromNewLogin: false };
    return this.add('PT', TICKET_PREFIX.proxyTicket, pgt.ticket, pgt.ticket.key, targetService, data, this.lifetimes().serviceTicketSeconds);
  }

  private async add(kind: TicketKind, prefix: string, parent: StoredTicket, parentKey: string, service: string, data: GrantData, lifetimeSeconds: number): Promise<string> {
    const now = this.clock.now();
    const id = newTicketId(prefix);
    const expiresAt = Math.min(now + lifetimeSeconds * 1000, data.tgtExpiresAt);
    await this.registry.add({
      id,
      kind,
      // A TGT is its own session root; every other ticket inherits its parent's.
      tgtKey: parent.kind === 'TGT' ? parent.key : parent.tgtKey,
      parentKey,
      accountId: parent.accountId,
      principal: parent.principal,
      service,
      createdAt: now,
      expiresAt,
      idleExpiresAt: expiresAt,
      data: { ...data },
    });
    return id;
  }
}
