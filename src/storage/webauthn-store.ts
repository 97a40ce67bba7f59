import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { affected } from './db';

/** A registered security key or passkey (a row of mfa_factors, kind 'webauthn'). */
export interface StoredCredential {
  factorId: number;
  accountId: number;
  name: string;
  /** base64url credential ID, as the browser reports it. */
  credentialId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  signCount: number;
  transports: string[];
}

export type Ceremony = 'register' | 'authenticate' | 'passkey';

interface CredentialRow {
  id: number;
  account_id: number;
  name: string;
  credential_id: string;
  public_key: string;
  sign_count: number | string | null;
  transports: string | null;
}

function toCredential(row: CredentialRow): StoredCredential {
  return {
    factorId: Number(row.id),
    accountId: Number(row.account_id),
    name: row.name,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    signCount: Number(row.sign_count ?? 0),
    transports: row.transports ? row.transports.split(',') : [],
  };
}

/** Lookup key of a credential ID: fixed length, so it indexes on every database. */
export function credentialHash(credentialId: string): string {
  return createHash('sha256').update(credentialId).digest('hex');
}

/** WebAuthn credentials (in mfa_factors) and ceremony challenges. */
export class WebAuthnStore {
  constructor(private readonly db: Knex) {}

  async credentials(accountId: number): Promise<StoredCredential[]> {
    return (await this.db('mfa_factors').where({ account_id: accountId, kind: 'webauthn' }).orderBy('id')).map(toCredential);
  }

  async hasFactors(accountId: number): Promise<boolean> {
    return (await this.db('mfa_factors').where({ account_id: accountId }).first('id')) !== undefined;
  }

  async byCredentialId(credentialId: string): Promise<StoredCredential | null> {
    const row = await this.db('mfa_factors').where({ credential_hash: credentialHash(credentialId), kind: 'webauthn' }).first();
    return row ? toCredential(row as CredentialRow) : null;
  }

  /** A new key and, when it is the account's first factor, its recovery codes: one transaction. */
  async addCredential(credential: Omit<StoredCredential, 'factorId'>, recoveryHashes: string[], now: number): Promise<number> {
    return this.db.transaction(async (trx) => {
      const [row] = await trx('mfa_factors').insert(
        {
          account_id: credential.accountId,
          kind: 'webauthn',
          name: credential.name,
          credential_hash: credentialHash(credential.credentialId),
          credential_id: credential.credentialId,
          public_key: credential.publicKey,
          sign_count: credential.signCount,
          transports: credential.transports.join(',').slice(0, 128) || null,
          created_at: now,
          last_used_at: now,
        },
        ['id'],
      );
      if (recoveryHashes.length > 0) {
        await trx('mfa_factors').insert(recoveryHashes.map((hash, i) => ({ account_id: credential.accountId, kind: 'recovery', name: `recovery-${i + 1}`, code_hash: hash, created_at: now })));
      }
      return Number((row as { id: number }).id ?? row);
    });
  }

  /**
   * Records a use with its signature counter: one conditional UPDATE that
   * succeeds only if the counter grew (or the authenticator keeps none, 0),
   * so two assertions with the same counter, on any instances, pass once.
   */
  async recordUse(factorId: number, signCount: number, now: number): Promise<boolean> {
    const query = this.db('mfa_factors').where({ id: factorId, kind: 'webauthn' });
    if (signCount > 0) query.andWhere('sign_count', '<', signCount);
    else query.andWhere('sign_count', 0);
    return affected(await query.update({ sign_count: signCount, last_used_at: now })) === 1;
  }

  /** Stores a challenge (and drops expired ones, so the table stays small). */
  async putChallenge(challenge: string, ceremony: Ceremony, accountId: number | null, expiresAt: number, now: number): Promise<void> {
    await this.db('webauthn_challenges').where('expires_at', '<=', now).del();
    await this.db('webauthn_challenges').insert({ challenge, ceremony, account_id: accountId, expires_at: expiresAt });
  }

  /**
   * Uses up a challenge: deleted by the one request that gets it, and only if
   * it is unexpired and was issued for this ceremony and account.
   */
  async takeChallenge(challenge: string, ceremony: Ceremony, accountId: number | null, now: number): Promise<boolean> {
    const query = this.db('webauthn_challenges').where({ challenge, ceremony }).andWhere('expires_at', '>', now);
    if (accountId === null) query.whereNull('account_id');
    else query.andWhere({ account_id: accountId });
    return affected(await query.del()) === 1;
  }
}
