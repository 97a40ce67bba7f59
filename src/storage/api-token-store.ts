import type { Knex } from 'knex';
import { affected } from './db';

export type TokenScope = 'full' | 'password_change';

export interface ApiToken {
  id: string;
  accountId: number;
  username: string;
  scope: TokenScope;
  clientIp: string | null;
  createdAt: number;
  expiresAt: number;
}

interface TokenRow {
  id: string;
  token_hash: string;
  account_id: number;
  username: string;
  scope: string;
  client_ip: string | null;
  created_at: number | string;
  expires_at: number | string;
}

function toToken(row: TokenRow): ApiToken {
  return {
    id: row.id,
    accountId: Number(row.account_id),
    username: row.username,
    scope: row.scope === 'full' ? 'full' : 'password_change',
    clientIp: row.client_ip,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

/**
 * The api_tokens table (src/admin/api-tokens.ts says what a token is). Only
 * SHA-256 hashes of the secrets are stored. A token is live until it expires,
 * and, when it was exchanged for a CAS session, while that session's TGT row exists.
 */
export class KnexApiTokenStore {
  constructor(private readonly db: Knex) {}

  async insert(token: ApiToken, tokenHash: string, tgtKey: string | null): Promise<void> {
    await this.db('api_tokens').insert({
      id: token.id,
      token_hash: tokenHash,
      account_id: token.accountId,
      username: token.username,
      scope: token.scope,
      client_ip: token.clientIp,
      created_at: token.createdAt,
      expires_at: token.expiresAt,
      tgt_key: tgtKey,
    });
  }

  async deleteExpired(now: number): Promise<number> {
    return affected(await this.db('api_tokens').where('expires_at', '<=', now).del());
  }

  private live(now: number): Knex.QueryBuilder<TokenRow> {
    return this.db<TokenRow>('api_tokens')
      .where('expires_at', '>', now)
      .andWhere((q) => q.whereNull('tgt_key').orWhereExists((session) => session.select(this.db.raw('1')).from('tickets').whereRaw('tickets.id = api_tokens.tgt_key')));
  }

  /** The live token with this hash or this id, or null. */
  async findLive(by: { tokenHash: string } | { id: string }, now: number): Promise<ApiToken | null> {
    const row = await this.live(now).where('tokenHash' in by ? { token_hash: by.tokenHash } : { id: by.id }).first();
    return row ? toToken(row) : null;
  }

  /** Live tokens, newest first. */
  async listLive(filter: { username?: string; offset?: number; limit?: number }, now: number): Promise<{ tokens: ApiToken[]; total: number }> {
    const query = this.live(now);
    if (filter.username) query.where('username', filter.username);
    const [count] = await query.clone().count<{ n: number | string }[]>({ n: '*' });
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').offset(filter.offset ?? 0).limit(filter.limit ?? 50);
    return { tokens: rows.map(toToken), total: Number(count?.n ?? 0) };
  }

  async countLive(now: number): Promise<number> {
    const [row] = await this.live(now).count<{ n: number | string }[]>({ n: '*' });
    return Number(row?.n ?? 0);
  }

  /** Every stored token of an account (live or not), optionally but one. */
  async listForAccount(accountId: number, exceptId?: string): Promise<ApiToken[]> {
    const query = this.db<TokenRow>('api_tokens').where({ account_id: accountId });
    if (exceptId) query.whereNot({ id: exceptId });
    return (await query.select('*')).map(toToken);
  }

  /** Deletes one token; false when it was already gone. */
  async delete(id: string): Promise<boolean> {
    return affected(await this.db('api_tokens').where({ id }).del()) === 1;
  }
}
