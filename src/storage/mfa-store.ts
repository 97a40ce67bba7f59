import type { Knex } from 'knex';
import { affected } from './db';

export type FactorKind = 'totp' | 'recovery' | 'webauthn';
export const FACTOR_KINDS: readonly FactorKind[] = ['totp', 'recovery', 'webauthn'];

export interface StoredFactor {
  id: number;
  accountId: number;
  kind: FactorKind;
  name: string;
  /** Sealed TOTP secret (src/mfa/secret-box.ts); null for recovery codes. */
  secret: string | null;
  /** SHA-256 of a recovery code; null for TOTP. */
  codeHash: string | null;
  lastUsedStep: number | null;
  createdAt: number;
  lastUsedAt: number | null;
}

interface FactorRow {
  id: number;
  account_id: number;
  kind: string;
  name: string;
  secret: string | null;
  code_hash: string | null;
  last_used_step: number | string | null;
  created_at: number | string;
  last_used_at: number | string | null;
}

function toFactor(row: FactorRow): StoredFactor {
  const num = (v: number | string | null) => (v === null ? null : Number(v));
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    kind: row.kind as FactorKind,
    name: row.name,
    secret: row.secret,
    codeHash: row.code_hash,
    lastUsedStep: num(row.last_used_step),
    createdAt: Number(row.created_at),
    lastUsedAt: num(row.last_used_at),
  };
}

/** Second factors and the account's "review your factors" flag. */
export class MfaStore {
  constructor(private readonly db: Knex) {}

  async list(accountId: number): Promise<StoredFactor[]> {
    return (await this.db('mfa_factors').where({ account_id: accountId }).orderBy('id')).map(toFactor);
  }

  async kinds(accountId: number): Promise<FactorKind[]> {
    const rows = await this.db('mfa_factors').where({ account_id: accountId }).distinct('kind');
    return rows.map((r: { kind: string }) => r.kind as FactorKind);
  }

  async anyExist(): Promise<boolean> {
    return (await this.db('mfa_factors').whereNotNull('secret').first('id')) !== undefined;
  }

  /** A confirmed TOTP factor and, when the account had none, its recovery codes: one transaction. */
  async addTotp(accountId: number, name: string, sealedSecret: string, usedStep: number, recoveryHashes: string[], now: number): Promise<number> {
    return this.db.transaction(async (trx) => {
      const [row] = await trx('mfa_factors').insert({ account_id: accountId, kind: 'totp', name, secret: sealedSecret, last_used_step: usedStep, created_at: now, last_used_at: now }, ['id']);
      if (recoveryHashes.length > 0) {
        await trx('mfa_factors').insert(recoveryHashes.map((hash, i) => ({ account_id: accountId, kind: 'recovery', name: `recovery-${i + 1}`, code_hash: hash, created_at: now })));
      }
      return Number((row as { id: number }).id ?? row);
    });
  }

  /** Replaces every recovery code of an account. */
  async replaceRecoveryCodes(accountId: number, hashes: string[], now: number): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx('mfa_factors').where({ account_id: accountId, kind: 'recovery' }).del();
      await trx('mfa_factors').insert(hashes.map((hash, i) => ({ account_id: accountId, kind: 'recovery', name: `recovery-${i + 1}`, code_hash: hash, created_at: now })));
    });
  }

  /**
   * Marks a TOTP step used, only if it is later than the last one: one
   * conditional UPDATE, so a code replayed in the same window (on any
   * instance, even at the same moment) is accepted once.
   */
  async useStep(factorId: number, step: number, now: number): Promise<boolean> {
    return (
      affected(
        await this.db('mfa_factors')
          .where({ id: factorId })
          .andWhere((q) => q.whereNull('last_used_step').orWhere('last_used_step', '<', step))
          .update({ last_used_step: step, last_used_at: now }),
      ) === 1
    );
  }

  /** Consumes a recovery code: deleted by the one request that gets it, and the account flagged for review. */
  async consumeRecoveryCode(factorId: number, accountId: number): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      const deleted = affected(await trx('mfa_factors').where({ id: factorId, kind: 'recovery' }).del());
      if (deleted === 1) await trx('accounts').where({ id: accountId }).update({ mfa_review: true });
      return deleted === 1;
    });
  }

  async remove(accountId: number, factorId: number): Promise<StoredFactor | null> {
    return this.db.transaction(async (trx) => {
      const row = await trx('mfa_factors').where({ id: factorId, account_id: accountId }).first();
      if (!row) return null;
      await trx('mfa_factors').where({ id: factorId }).del();
      // Recovery codes back up the other factors; with none left, they go too.
      const others = await trx('mfa_factors').where({ account_id: accountId }).whereNot({ kind: 'recovery' }).first('id');
      if (!others) await trx('mfa_factors').where({ account_id: accountId, kind: 'recovery' }).del();
      return toFactor(row as FactorRow);
    });
  }

  async reset(accountId: number): Promise<number> {
    return this.db.transaction(async (trx) => {
      const removed = affected(await trx('mfa_factors').where({ account_id: accountId }).del());
      await trx('accounts').where({ id: accountId }).update({ mfa_review: false });
      return removed;
    });
  }

  async reviewFlag(accountId: number): Promise<boolean> {
    const row = await this.db('accounts').where({ id: accountId }).first('mfa_review');
    return Boolean(row?.mfa_review);
  }

  /** Every sealed secret, for key rotation. */
  async sealedSecrets(trx?: Knex.Transaction): Promise<{ id: number; accountId: number; secret: string }[]> {
    const rows = await (trx ?? this.db)('mfa_factors').whereNotNull('secret').select('id', 'account_id', 'secret');
    return rows.map((r: { id: number; account_id: number; secret: string }) => ({ id: Number(r.id), accountId: Number(r.account_id), secret: r.secret }));
  }

  /** Re-seals every secret in one transaction (`reseal` must be synchronous and may throw to abort). */
  async resealAll(reseal: (secret: string, accountId: number) => string): Promise<number> {
    return this.db.transaction(async (trx) => {
      const rows = await this.sealedSecrets(trx);
      for (const row of rows) await trx('mfa_factors').where({ id: row.id }).update({ secret: reseal(row.secret, row.accountId) });
      return rows.length;
    });
  }
}
