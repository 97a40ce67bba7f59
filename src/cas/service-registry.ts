import type { Clock } from '../shared/clock';
import { ConflictError, InputError, NotFoundError } from '../shared/errors';
import { isXmlName } from './xml';
import { checkServiceUrl, isPattern, patternProblem, serviceMatcher } from './service-pattern';

export type LogoutType = 'back_channel' | 'none';
export const LOGOUT_TYPES: readonly LogoutType[] = ['back_channel', 'none'];
/** required: tickets for this service need a session with a second factor (step-up at login, INVALID_AUTHENTICATION_CONTEXT at validation). */
export type ServiceMfa = 'required' | 'optional';
export const SERVICE_MFA: readonly ServiceMfa[] = ['required', 'optional'];

/** An application allowed to receive tickets. */
export interface RegisteredService {
  id: number;
  /** Unique, human-chosen name (the CLI and admin API address services by it). */
  name: string;
  description: string | null;
  /** Exact URL, or a pattern when it contains `*` (syntax: src/cas/service-pattern.ts). */
  serviceUrl: string;
  /** Patterns are tried in ascending order (then by id); exact URLs always win over patterns. */
  evaluationOrder: number;
  enabled: boolean;
  /** Pattern (https only) the `pgtUrl` must match; null = this service may not obtain proxy-granting tickets. */
  proxyCallback: string | null;
  /** Whether proxy tickets may be issued for this service (as `/proxy` targetService). */
  acceptsProxyTickets: boolean;
  /** Attribute names released on /p3 and /samlValidate (account: displayName, mail, role, username; others from the directory). */
  releasedAttributes: string[];
  /** back_channel: single-logout POST on session end; none: no notification. */
  logoutType: LogoutType;
  /** Where the single-logout POST goes; null = the service URL the ticket was issued for. */
  logoutUrl: string | null;
  /** Whether a second factor is required for this service (on top of `mfa.require`). */
  mfa: ServiceMfa;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export interface ServiceInput {
  name: string;
  description?: string | null;
  serviceUrl: string;
  evaluationOrder?: number;
  enabled?: boolean;
  proxyCallback?: string | null;
  acceptsProxyTickets?: boolean;
  releasedAttributes?: string[];
  logoutType?: LogoutType;
  logoutUrl?: string | null;
  mfa?: ServiceMfa;
}

export type ServiceChanges = Partial<ServiceInput>;

/**
 * The registered-service store and matcher, shared by the protocol endpoints,
 * the CLI and the admin API. Writes validate the whole record and throw
 * InputError (with per-field problems), ConflictError (name taken, stale
 * version) or NotFoundError.
 */
export interface ServiceRegistry {
  list(): Promise<RegisteredService[]>;
  get(id: number): Promise<RegisteredService | null>;
  findByName(name: string): Promise<RegisteredService | null>;
  create(input: ServiceInput): Promise<RegisteredService>;
  /** `expectedVersion` makes the update conditional (optimistic locking). */
  update(id: number, changes: ServiceChanges, expectedVersion?: number): Promise<RegisteredService>;
  delete(id: number): Promise<boolean>;
  /** The enabled service a URL belongs to (exact URLs first, then patterns in order), or null. */
  match(serviceUrl: string): Promise<RegisteredService | null>;
  /** An enabled service by id, from the same (possibly cached) view as `match`. */
  resolve(id: number): Promise<RegisteredService | null>;
  /** Checks a service record without storing it; returns the problems found. */
  validate(input: ServiceInput): { field: string; rule: string; message: string }[];
}

/** A service record as the registry hands it to a store: every field set, without the store's bookkeeping. */
export type ServiceRecord = Omit<RegisteredService, 'id' | 'createdAt' | 'updatedAt' | 'version'>;

/**
 * Where registered services are kept (src/storage/service-store.ts). The
 * store decides races: of two writers of one name or one version, one wins.
 */
export interface ServiceStore {
  /** Every service, by evaluation order, then id. */
  list(): Promise<RegisteredService[]>;
  get(id: number): Promise<RegisteredService | null>;
  findByName(name: string): Promise<RegisteredService | null>;
  /** Stores a new service at version 1 and returns its id; throws ConflictError('service_name_taken') when the name is taken. */
  insert(record: ServiceRecord, now: number): Promise<number>;
  /**
   * Replaces the service if it is still at `version`, bumping the version;
   * false when it is not (changed by someone else, or gone). Throws
   * ConflictError('service_name_taken') when the new name is taken.
   */
  update(id: number, version: number, record: ServiceRecord, now: number): Promise<boolean>;
  /** False when there was no such service. */
  delete(id: number): Promise<boolean>;
}

/** The record stored for an input: the defaults of every field left out. */
function withDefaults(input: ServiceInput): ServiceRecord {
  return {
    name: input.name,
    description: input.description ?? null,
    serviceUrl: input.serviceUrl,
    evaluationOrder: input.evaluationOrder ?? 0,
    enabled: input.enabled ?? true,
    proxyCallback: input.proxyCallback ?? null,
    acceptsProxyTickets: input.acceptsProxyTickets ?? false,
    releasedAttributes: input.releasedAttributes ?? [],
    logoutType: input.logoutType ?? 'back_channel',
    logoutUrl: input.logoutUrl ?? null,
    mfa: input.mfa ?? 'optional',
  };
}

const MAX_ATTRIBUTES = 100;

/** Every problem with a service record, per field (empty when it can be stored). */
export function serviceProblems(input: ServiceInput): { field: string; rule: string; message: string }[] {
  const problems: { field: string; rule: string; message: string }[] = [];
  const add = (field: string, rule: string, message: string) => problems.push({ field, rule, message });
  if (typeof input.name !== 'string' || input.name.trim().length === 0 || input.name.length > 128) add('name', 'length', 'name must be 1 to 128 characters');
  // eslint-disable-next-line no-control-regex -- names are shown in lists and logs
  else if (/[\u0000-\u001f\u007f]/.test(input.name) || input.name !== input.name.trim()) add('name', 'format', 'name must not contain control characters or surrounding spaces');
  if (input.description !== undefined && input.description !== null && (typeof input.description !== 'string' || input.description.length > 2000)) add('description', 'length', 'description must be at most 2000 characters');
  if (typeof input.serviceUrl !== 'string') add('serviceUrl', 'required', 'serviceUrl is required');
  else {
    const problem = patternProblem(input.serviceUrl);
    if (problem) add('serviceUrl', 'format', `serviceUrl ${problem}`);
  }
  if (input.evaluationOrder !== undefined && (!Number.isInteger(input.evaluationOrder) || Math.abs(input.evaluationOrder) > 1_000_000)) {
    add('evaluationOrder', 'range', 'evaluationOrder must be an integer between -1000000 and 1000000');
  }
  if (input.proxyCallback !== undefined && input.proxyCallback !== null) {
    const problem = typeof input.proxyCallback === 'string' ? patternProblem(input.proxyCallback, { httpsOnly: true }) : 'must be a string';
    if (problem) add('proxyCallback', 'format', `proxyCallback ${problem}`);
  }
  if (input.releasedAttributes !== undefined) {
    if (!Array.isArray(input.releasedAttributes) || input.releasedAttributes.length > MAX_ATTRIBUTES) add('releasedAttributes', 'format', `releasedAttributes must be a list of at most ${MAX_ATTRIBUTES} names`);
    else {
      for (const name of input.releasedAttributes) {
        if (typeof name !== 'string' || !isXmlName(name)) add('releasedAttributes', 'name', `attribute name ${JSON.stringify(name)} must start with a letter or "_" and contain only letters, digits, ".", "_" and "-"`);
      }
      if (new Set(input.releasedAttributes).size !== input.releasedAttributes.length) add('releasedAttributes', 'unique', 'releasedAttributes lists a name twice');
    }
  }
  if (input.logoutType !== undefined && !LOGOUT_TYPES.includes(input.logoutType)) add('logoutType', 'enum', `logoutType must be one of ${LOGOUT_TYPES.join(', ')}`);
  if (input.mfa !== undefined && !SERVICE_MFA.includes(input.mfa)) add('mfa', 'enum', `mfa must be one of ${SERVICE_MFA.join(', ')}`);
  if (input.logoutUrl !== undefined && input.logoutUrl !== null) {
    const check = typeof input.logoutUrl === 'string' ? checkServiceUrl(input.logoutUrl) : ({ ok: false, reason: 'must be a string' } as const);
    if (!check.ok) add('logoutUrl', 'format', `logoutUrl ${check.reason}`);
  }
  return problems;
}

interface CompiledService {
  service: RegisteredService;
  matches: (candidate: string) => boolean;
}

interface Snapshot {
  loadedAt: number;
  exact: Map<string, RegisteredService>;
  patterns: CompiledService[];
  byId: Map<number, RegisteredService>;
}

/**
 * A registry over any ServiceStore. Lookups for the protocol (`match`,
 * `resolve`) use an in-memory snapshot of the enabled services, refreshed
 * after `cacheSeconds` and immediately after local writes; another
 * instance's changes are seen within `cacheSeconds`.
 */
export class CachingServiceRegistry implements ServiceRegistry {
  private snapshot: Snapshot | null = null;
  private generation = 0;
  private loading: Promise<Snapshot> | null = null;

  constructor(
    private readonly store: ServiceStore,
    private readonly clock: Clock,
    private readonly cacheSeconds: number,
  ) {}

  list(): Promise<RegisteredService[]> {
    return this.store.list();
  }

  async get(id: number): Promise<RegisteredService | null> {
    if (!Number.isSafeInteger(id)) return null;
    return this.store.get(id);
  }

  findByName(name: string): Promise<RegisteredService | null> {
    return this.store.findByName(name);
  }

  validate(input: ServiceInput): { field: string; rule: string; message: string }[] {
    return serviceProblems(input);
  }

  async create(input: ServiceInput): Promise<RegisteredService> {
    this.assertValid(input);
    const id = await this.store.insert(withDefaults(input), this.clock.now());
    this.invalidate();
    const created = await this.get(id);
    if (!created) throw new Error('service vanished right after insert');
    return created;
  }

  async update(id: number, changes: ServiceChanges, expectedVersion?: number): Promise<RegisteredService> {
    const current = await this.get(id);
    if (!current) throw new NotFoundError(`No service with id ${id}.`);
    const merged: ServiceInput = { ...current, ...changes };
    this.assertValid(merged);
    let updated: boolean;
    try {
      updated = await this.store.update(id, expectedVersion ?? current.version, withDefaults(merged), this.clock.now());
    } finally {
      this.invalidate();
    }
    if (!updated) throw new ConflictError('version_mismatch', `Service ${id} was changed by someone else; reload it and try again.`);
    return (await this.get(id)) as RegisteredService;
  }

  async delete(id: number): Promise<boolean> {
    const deleted = await this.store.delete(id);
    this.invalidate();
    return deleted;
  }

  async match(serviceUrl: string): Promise<RegisteredService | null> {
    if (!checkServiceUrl(serviceUrl).ok) return null;
    const snapshot = await this.current();
    const exact = snapshot.exact.get(serviceUrl);
    if (exact) return exact;
    return snapshot.patterns.find((p) => p.matches(serviceUrl))?.service ?? null;
  }

  async resolve(id: number): Promise<RegisteredService | null> {
    return (await this.current()).byId.get(id) ?? null;
  }

  private assertValid(input: ServiceInput): void {
    const problems = serviceProblems(input);
    if (problems.length > 0) throw new InputError(`The service is invalid: ${problems.map((p) => p.message).join('; ')}.`, 400, problems);
  }

  private invalidate(): void {
    this.generation++;
    this.snapshot = null;
    this.loading = null;
  }

  private async current(): Promise<Snapshot> {
    // Real time for the cache age: a test's manual clock must not freeze the cache.
    if (this.snapshot && Date.now() - this.snapshot.loadedAt < this.cacheSeconds * 1000) return this.snapshot;
    const generation = this.generation;
    this.loading ??= this.load(generation).finally(() => {
      if (this.generation === generation) this.loading = null;
    });
    return this.loading;
  }

  private async load(generation: number): Promise<Snapshot> {
    const services = (await this.list()).filter((s) => s.enabled);
    const exact = new Map<string, RegisteredService>();
    const patterns: CompiledService[] = [];
    for (const service of services) {
      if (isPattern(service.serviceUrl)) patterns.push({ service, matches: serviceMatcher(service.serviceUrl) });
      else if (!exact.has(service.serviceUrl)) exact.set(service.serviceUrl, service);
    }
    const snapshot: Snapshot = { loadedAt: Date.now(), exact, patterns, byId: new Map(services.map((s) => [s.id, s])) };
    // A write during the load makes this view stale: use it for this caller, do not keep it.
    if (this.generation === generation) this.snapshot = snapshot;
    return snapshot;
  }
}
