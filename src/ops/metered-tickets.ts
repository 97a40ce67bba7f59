import type { NewTicket, TicketRegistry } from '../tickets/registry';

/**
 * The ticket registry, counting every ticket issued (whichever code path
 * issues it): `add` is wrapped on the registry itself, so every other method
 * and the registry's type stay as they are.
 */
export function meteredTickets<R extends Pick<TicketRegistry, 'add'>>(registry: R, onIssued: (kind: NewTicket['kind']) => void): R {
  const add = registry.add.bind(registry);
  registry.add = async (ticket: NewTicket) => {
    await add(ticket);
    onIssued(ticket.kind);
  };
  return registry;
}
