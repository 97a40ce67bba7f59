import type { Knex } from 'knex';
import type { Account } from '../accounts/account';
import type { AuditLog } from '../storage/audit-log';
import { affected } from '../storage/db';
import type { Clock } from '../shared/clock';
import { randomAlphanumeric, sha256Hex } from '../shared/random';

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

export interface TokenContext {
  clientIp: string | null;
  userAgent: string | null;
  /** What the token was exchanged for, for the audit trail ("credentials", "cas_tgt"). */
  channel: string;
  /** The CAS session (TGT) the token was exchanged for: the token ends with it, and at `endsAt` at the latest. */
  session?: { tgtKey: string; endsAt: number };
}

const TOKEN_PREFIX = 'pcat_';
/** `pcat_` + 43 characters over [A-Za-z0-9] (≥ 256 bits). */
const TOKEN_SHAPE = /^pcat_[A-Za-z0-9]{43}$/;

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
 * Short-lived bearer tokens for /api/v1, stored in the shared database (so
 * every instance accepts them) as SHA-256 hashes (so a copy of the table
 * grants nothing). Revocation deletes the row; expiry is checked on every use.
 */
export class ApiTokenService {
  constructor(
    private readonly db: Knex,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ttlSeconds: () => number,
  ) {}

  async issue(account: Account, scope: TokenScope, context: TokenContext): Promise<{ secret: string; token: ApiToken }> {
    const now = this.clock.now();
    // Expired rows are useless; dropping them here keeps the table small without a timer.
    await this.db('api_tokens').where('expires_at', '<=', now).del();
    const secret = TOKEN_PREFIX + randomAlphanumeric(32);
    const token: ApiToken = {
      id: `tok_${randomAlphanumeric(12)}`,
      accountId: account.id,
      username: account.username,
      scope,
      clientIp: context.clientIp?.slice(0, 64) ?? null,
      createdAt: now,
      expiresAt: Math.min(now + this.ttlSeconds() * 1000, context.session?.endsAt ?? Number.POSITIVE_INFINITY),
    };
    await this.db('api_tokens').insert({
      id: token.id,
      token_hash: sha256Hex(secret),
      account_id: token.accountId,
      username: token.username,
      scope: token.scope,
      client_ip: token.clientIp,
      created_at: token.createdAt,
      expires_at: token.expiresAt,
      tgt_key: context.session?.tgtKey ?? null,
    });
    await this.audit.append(
      {
        event: 'token_issued',
        outcome: 'success',
        username: account.username,
        actor: account.username,
        clientIp: context.clientIp,
        userAgent: context.userAgent,
        details: { tokenId: token.id, scope, expiresAt: token.expiresAt, channel: context.channel },
      },
      now,
    );
    return { secret, token };
  }

  /** Tokens not expired whose CAS session, if they came from one, still exists (logout deletes the TGT). */
  private live(): Knex.QueryBuilder<TokenRow> {
    return this.db<TokenRow>('api_tokens')
      .where('expires_at', '>', this.clock.now())
      .andWhere((q) => q.whereNull('tgt_key').orWhereExists((session) => session.select(this.db.raw('1')).from('tickets').whereRaw('tickets.id = api_tokens.tgt_key')));
  }

  /** The live token for a presented secret, or null (malformed, unknown, revoked or expired). */
  async authenticate(secret: string): Promise<ApiToken | null> {
    if (!TOKEN_SHAPE.test(secret)) return null;
    const row = await this.live().where({ token_hash: sha256Hex(secret) }).first();
    return row ? toToken(row) : null;
  }

  async find(id: string): Promise<ApiToken | null> {
    const row = await this.live().where({ id }).first();
    return row ? toToken(row) : null;
  }

  async list(filter: { username?: string; offset?: number; limit?: number }): Promise<{ tokens: ApiToken[]; total: number }> {
    const query = this.live();
    if (filter.username) query.where('username', filter.username);
    const [count] = await query.clone().count<{ n: number | string }[]>({ n: '*' });
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').offset(filter.offset ?? 0).limit(filter.limit ?? 50);
    return { tokens: rows.map(toToken), total: Number(count?.n ?? 0) };
  }

  async countActive(): Promise<number> {
    const [row] = await this.live().count<{ n: number | string }[]>({ n: '*' });
    return Number(row?.n ?? 0);
  }

  /** Revokes one token; false when it was already gone. */
  async revoke(token: ApiToken, reason: string, actor: { name: string; clientIp?: string | null }): Promise<boolean> {
    const gone = affected(await this.db('api_tokens').where({ id: token.id }).del()) === 1;
    if (gone) {
      await this.audit.append(
        { event: 'token_revoked', outcome: 'success', username: token.username, actor: actor.name, clientIp: actor.clientIp, details: { tokenId: token.id, reason } },
        this.clock.now(),
      );
    }
    return gone;
  }

  /** Revokes every token of an account (password changed, account disabled), optionally sparing one. */
  async revokeAllFor(accountId: number, reason: string, actor: { name: string; clientIp?: string | null }, exceptId?: string): Promise<number> {
    const query = this.db<TokenRow>('api_tokens').where({ account_id: accountId });
    if (exceptId) query.whereNot({ id: exceptId });
    const rows = await query.clone().select('*');
    let revoked = 0;
    for (const row of rows) if (await this.revoke(toToken(row), reason, actor)) revoked++;
    return revoked;
  }
}
