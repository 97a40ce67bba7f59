import type { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { isUniqueViolation } from './db';

/**
 * Server secrets generated on first use and shared through the database, so
 * every instance signs and checks CSRF tokens with the same key.
 */
export class KeyStore {
  constructor(private readonly db: Knex) {}

  async getOrCreate(name: string, now: number): Promise<Buffer> {
    const existing = await this.db('server_keys').where({ name }).first();
    if (existing) return Buffer.from(existing.value as string, 'base64');
    try {
      await this.db('server_keys').insert({ name, value: randomBytes(32).toString('base64'), created_at: now });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    const row = await this.db('server_keys').where({ name }).first();
    return Buffer.from(row.value as string, 'base64');
  }
}
