// Registered CAS services (table cas_services): the knex ServiceStore, with optimistic versions and unique names.
import type { Knex } from 'knex';
import type { RegisteredService, ServiceRecord, ServiceStore } from '../cas/service-registry';
import { ConflictError } from '../shared/errors';
import { affected, isUniqueViolation } from './db';

interface ServiceRow {
  id: number;
  name: string;
  description: string | null;
  service_url: string;
  evaluation_order: number;
  enabled: number | boolean;
  proxy_callback: string | null;
  accepts_proxy_tickets: number | boolean;
  released_attributes: string;
  logout_type: string;
  logout_url: string | null;
  mfa: string;
  created_at: number | string;
  updated_at: number | string;
  version: number;
}

function toService(row: ServiceRow): RegisteredService {
  const released: unknown = JSON.parse(row.released_attributes);
  return {
    id: Number(row.id),
    name: row.name,
    description: row.description,
    serviceUrl: row.service_url,
    evaluationOrder: Number(row.evaluation_order),
    enabled: Boolean(row.enabled),
    proxyCallback: row.proxy_callback,
    acceptsProxyTickets: Boolean(row.accepts_proxy_tickets),
    releasedAttributes: Array.isArray(released) ? released.filter((a): a is string => typeof a === 'string') : [],
    logoutType: row.logout_type === 'none' ? 'none' : 'back_channel',
    logoutUrl: row.logout_url,
    mfa: row.mfa === 'required' ? 'required' : 'optional',
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    version: Number(row.version),
  };
}

function toRow(record: ServiceRecord) {
  return {
    name: record.name,
    description: record.description,
    service_url: record.serviceUrl,
    evaluation_order: record.evaluationOrder,
    enabled: record.enabled,
    proxy_callback: record.proxyCallback,
    accepts_proxy_tickets: record.acceptsProxyTickets,
    released_attributes: JSON.stringify(record.releasedAttributes),
    logout_type: record.logoutType,
    logout_url: record.logoutUrl,
    mfa: record.mfa,
  };
}

const nameTaken = (name: string) => new ConflictError('service_name_taken', `A service named "${name}" already exists.`);

/** Each write is one statement: the unique index on the name and the version condition decide races. */
export class KnexServiceStore implements ServiceStore {
  constructor(private readonly db: Knex) {}

  async list(): Promise<RegisteredService[]> {
    const rows = await this.db<ServiceRow>('cas_services').orderBy([{ column: 'evaluation_order' }, { column: 'id' }]);
    return rows.map(toService);
  }

  async get(id: number): Promise<RegisteredService | null> {
    const row = await this.db<ServiceRow>('cas_services').where({ id }).first();
    return row ? toService(row) : null;
  }

  async findByName(name: string): Promise<RegisteredService | null> {
    const row = await this.db<ServiceRow>('cas_services').where({ name }).first();
    return row ? toService(row) : null;
  }

  async insert(record: ServiceRecord, now: number): Promise<number> {
    try {
      const [inserted] = await this.db('cas_services')
        .insert({ ...toRow(record), created_at: now, updated_at: now, version: 1 })
        .returning('id');
      return typeof inserted === 'object' && inserted !== null ? Number((inserted as { id: number }).id) : Number(inserted);
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(record.name);
      throw error;
    }
  }

  async update(id: number, version: number, record: ServiceRecord, now: number): Promise<boolean> {
    try {
      const count = await this.db('cas_services')
        .where({ id, version })
        .update({ ...toRow(record), updated_at: now, version: version + 1 });
      return affected(count) === 1;
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(record.name);
      throw error;
    }
  }

  async delete(id: number): Promise<boolean> {
    return affected(await this.db('cas_services').where({ id }).del()) > 0;
  }
}
