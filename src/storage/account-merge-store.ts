import type { Knex } from 'knex';
import { affected } from './db';

export interface MergeMoves {
  /** Ticket keys (SHA-256) of the FROM account's single sign-on sessions that were ended, for single logout. */
  endedSessionKeys: string[];
  /** Tickets deleted with those sessions (TGTs and every ticket they issued). */
  ticketsDeleted: number;
  /** API tokens now held by INTO. */
  tokensMoved: number;
  /** API tokens that were tied to one of the ended sessions, deleted with them. */
  tokensRevoked: number;
}

/** SQL Server allows 2100 parameters per statement. */
const CHUNK = 500;

/**
 * The storage side of `portcullis user merge FROM INTO`, run on the caller's
 * transaction: FROM's sessions end (a session names its user in every ticket
 * it issues, so it cannot change owner), its API tokens move to INTO (those
 * exchanged for one of the ended sessions end with it), and FROM is deleted
 * with its password history. Audit events are left as they are: the trail
 * keeps FROM's name.
 */
export class AccountMergeStore {
  constructor(private readonly db: Knex | Knex.Transaction) {}

  async moveAndDelete(fromId: number, into: { id: number; username: string }): Promise<MergeMoves> {
    const sessions = await this.db('tickets').where({ account_id: fromId, kind: 'TGT' }).select<{ id: string }[]>('id');
    const endedSessionKeys = sessions.map((s) => s.id);
    let ticketsDeleted = 0;
    let tokensRevoked = 0;
    for (let i = 0; i < endedSessionKeys.length; i += CHUNK) {
      const chunk = endedSessionKeys.slice(i, i + CHUNK);
      ticketsDeleted += affected(await this.db('tickets').whereIn('tgt_id', chunk).del());
      tokensRevoked += affected(await this.db('api_tokens').where({ account_id: fromId }).whereIn('tgt_key', chunk).del());
    }
    ticketsDeleted += affected(await this.db('tickets').where({ account_id: fromId }).del());
    const tokensMoved = affected(await this.db('api_tokens').where({ account_id: fromId }).update({ account_id: into.id, username: into.username }));
    await this.db('password_history').where({ account_id: fromId }).del();
    await this.db('accounts').where({ id: fromId }).del();
    return { endedSessionKeys, ticketsDeleted, tokensMoved, tokensRevoked };
  }
}
