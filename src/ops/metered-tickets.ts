import type { Knex } from 'knex';
import { KnexTicketRegistry, type NewTicket } from '../tickets/registry';

/** The ticket registry, counting every ticket issued (whichever code path issues it). */
export class MeteredTicketRegistry extends KnexTicketRegistry {
  constructor(
    db: Knex,
    private readonly onIssued: (kind: NewTicket['kind']) => void,
  ) {
    super(db);
  }

  override async add(ticket: NewTicket): Promise<void> {
    await super.add(ticket);
    this.onIssued(ticket.kind);
  }
}
