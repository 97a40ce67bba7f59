import type { Knex } from 'knex';
import { isUniqueViolation } from './db';

/** Acceptances of the notice page (migration 007), per account and notice version. */
export class NoticeStore {
  constructor(private readonly db: Knex) {}

  async hasAccepted(accountId: number, version: string): Promise<boolean> {
    const row = await this.db('notice_acceptances').where({ account_id: accountId, version }).first('accepted_at');
    return row !== undefined;
  }

  /** Records an acceptance; false when this account had already accepted this version (a second tab, a replayed form). */
  async accept(accountId: number, version: string, language: string, now: number): Promise<boolean> {
    try {
      await this.db('notice_acceptances').insert({ account_id: accountId, version, language, accepted_at: now });
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }
}
