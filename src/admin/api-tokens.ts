import type { Account } from '../accounts/account';
import type { AuditEvent } from '../storage/audit-log';
import type { ApiToken, TokenScope } from '../storage/api-token-store';
import type { Clock } from '../shared/clock';
import { randomAlphanumeric, sha256Hex } from '../shared/random';

export type { ApiToken, TokenScope } from '../storage/api-token-store';

/** What the token service needs of the api_tokens table (src/storage/api-token-store.ts). "Live": unexpired at `now`, and its CAS session, if any, still there. */
export interface ApiTokenStore {
  insert(token: ApiToken, tokenHash: string, tgtKey: string | null): Promise<void>;
  deleteExpired(now: number): Promise<number>;
  findLive(by: { tokenHash: string } | { id: string }, now: number): Promise<ApiToken | null>;
  listLive(filter: { username?: string; offset?: number; limit?: number }, now: number): Promise<{ tokens: ApiToken[]; total: number }>;
  countLive(now: number): Promise<number>;
  listForAccount(accountId: number, exceptId?: string): Promise<ApiToken[]>;
  delete(id: string): Promise<boolean>;
}

/** Where token events go (src/storage/audit-log.ts). */
export interface TokenAuditTrail {
  append(event: AuditEvent, at: number): Promise<void>;
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

/**
 * Short-lived bearer tokens for /api/v1, stored in the shared database (so
 * every instance accepts them) as SHA-256 hashes (so a copy of the table
 * grants nothing). Revocation deletes the row; expiry is checked on every use.
 */
export class ApiTokenService {
  constructor(
    private readonly store: ApiTokenStore,
    private readonly audit: TokenAuditTrail,
    private readonly clock: Clock,
    private readonly ttlSeconds: () => number,
  ) {}

  async issue(account: Account, scope: TokenScope, context: TokenContext): Promise<{ secret: string; token: ApiToken }> {
    const now = this.clock.now();
    // Expired rows are useless; dropping them here keeps the table small without a timer.
    await this.store.deleteExpired(now);
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
    await this.store.insert(token, sha256Hex(secret), context.session?.tgtKey ?? null);
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

  /** The live token for a presented secret, or null (malformed, unknown, revoked or expired). */
  async authenticate(secret: string): Promise<ApiToken | null> {
    if (!TOKEN_SHAPE.test(secret)) return null;
    return this.store.findLive({ tokenHash: sha256Hex(secret) }, this.clock.now());
  }

  async find(id: string): Promise<ApiToken | null> {
    return this.store.findLive({ id }, this.clock.now());
  }

  async list(filter: { username?: string; offset?: number; limit?: number }): Promise<{ tokens: ApiToken[]; total: number }> {
    return this.store.listLive(filter, this.clock.now());
  }

  async countActive(): Promise<number> {
    return this.store.countLive(this.clock.now());
  }

  /** Revokes one token; false when it was already gone. */
  async revoke(token: ApiToken, reason: string, actor: { name: string; clientIp?: string | null }): Promise<boolean> {
    const gone = await this.store.delete(token.id);
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
    let revoked = 0;
    for (const token of await this.store.listForAccount(accountId, exceptId)) if (await this.revoke(token, reason, actor)) revoked++;
    return revoked;
  }
}
