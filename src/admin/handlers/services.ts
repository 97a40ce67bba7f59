import type { RegisteredService, ServiceRegistry } from '../../cas/service-registry';
import { ConflictError, InputError, NotFoundError } from '../../shared/errors';
import { isoTime } from '../account-views';
import { apiError } from '../error-codes';
import { actorOf } from '../guard';
import { type ApiRoute, defineRoute } from '../route-kit';
import { serviceCreateSchema, serviceIdParams, serviceListQuery, servicePageSchema, serviceSchema, serviceUpdateSchema, serviceWithWarningsSchema } from '../schemas';
import { plainHttpFindings } from '../../cas/plain-http';
import { checkIfMatch } from './accounts';
import { type ServiceRouteDeps, page } from './context';

function serviceView(service: RegisteredService) {
  return { ...service, createdAt: isoTime(service.createdAt), updatedAt: isoTime(service.updatedAt) };
}

function etagOf(service: RegisteredService): string {
  return `"${service.version}"`;
}

/** The registry reports invalid records as InputError with per-field problems: for the API that is a 422 validation problem. */
async function validated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InputError && error.fields.length > 0) throw apiError('VALIDATION_FAILED', error.message, error.fields);
    if (error instanceof ConflictError && error.code === 'version_mismatch') throw apiError('PRECONDITION_FAILED');
    throw error;
  }
}

/** Plain http:// URLs: refused (422) unless `allowHttp`, then returned as warnings for the answer. */
function plainHttpWarnings(body: { serviceUrl?: string | null; logoutUrl?: string | null; allowHttp?: boolean }): string[] | undefined {
  const findings = plainHttpFindings(body);
  if (findings.length === 0) return undefined;
  if (!body.allowHttp) {
    throw apiError('VALIDATION_FAILED', 'Plain http:// URLs are refused: use https://, or send "allowHttp": true to register them anyway.', findings.map((f) => ({ field: f.field, rule: 'https', message: f.message })));
  }
  return findings.map((f) => f.message);
}

async function requireService(registry: ServiceRegistry, id: number): Promise<RegisteredService> {
  const service = await registry.get(id);
  if (!service) throw new NotFoundError(`No service with id ${id}.`);
  return service;
}

/** Records a registry change with the acting administrator (the API and the console write the same events). */
export function serviceAudit({ audit, clock }: Pick<ServiceRouteDeps, 'audit' | 'clock'>) {
  return (event: string, service: RegisteredService, actor: { name: string; clientIp?: string | null }, details: Record<string, unknown> = {}) =>
    audit.append({ event, outcome: 'success', actor: actor.name, clientIp: actor.clientIp, details: { serviceId: service.id, name: service.name, serviceUrl: service.serviceUrl, ...details } }, clock.now());
}

type ServiceAudit = ReturnType<typeof serviceAudit>;

const listRoute = (registry: ServiceRegistry) =>
  defineRoute({
    method: 'get',
    path: '/services',
    access: 'admin',
    tag: 'services',
    summary: 'List registered services in evaluation order',
    query: serviceListQuery,
    responses: { 200: { description: 'A page of services.', schema: servicePageSchema } },
    async handle({ query }) {
      const all = (await registry.list()).filter((s) => query.enabled === undefined || s.enabled === query.enabled);
      const { offset, limit } = page(query);
      return { status: 200, body: { items: all.slice(offset, offset + limit).map(serviceView), total: all.length, offset, limit } };
    },
  });

const createRoute = (registry: ServiceRegistry, record: ServiceAudit) =>
  defineRoute({
    method: 'post',
    path: '/services',
    access: 'admin',
    tag: 'services',
    summary: 'Register a service',
    body: serviceCreateSchema,
    responses: { 201: { description: 'Registered.', schema: serviceWithWarningsSchema, headers: { Location: 'URL of the new service.', ETag: 'Its version.' } } },
    errors: [409],
    async handle({ req, body, caller }) {
      const { allowHttp, ...input } = body;
      const warnings = plainHttpWarnings({ ...input, allowHttp });
      const service = await validated(() => registry.create(input));
      await record('service_created', service, actorOf(req, caller), warnings ? { warnings } : {});
      return { status: 201, body: { ...serviceView(service), ...(warnings ? { warnings } : {}) }, headers: { ETag: etagOf(service), Location: `${req.baseUrl}/services/${service.id}` } };
    },
  });

const getRoute = (registry: ServiceRegistry) =>
  defineRoute({
    method: 'get',
    path: '/services/{id}',
    access: 'admin',
    tag: 'services',
    summary: 'One registered service',
    params: serviceIdParams,
    responses: { 200: { description: 'The service.', schema: serviceSchema, headers: { ETag: 'The service version; send it in If-Match to update.' } } },
    async handle({ params }) {
      const service = await requireService(registry, params.id);
      return { status: 200, body: serviceView(service), headers: { ETag: etagOf(service) } };
    },
  });

const updateRoute = (registry: ServiceRegistry, record: ServiceAudit) =>
  defineRoute({
    method: 'patch',
    path: '/services/{id}',
    access: 'admin',
    tag: 'services',
    summary: 'Change a registered service',
    params: serviceIdParams,
    body: serviceUpdateSchema,
    requestHeaders: [{ name: 'If-Match', required: true, description: 'The ETag from GET /services/{id}, or "*".' }],
    responses: { 200: { description: 'The updated service.', schema: serviceWithWarningsSchema, headers: { ETag: 'The new version.' } } },
    errors: [409, 412, 428],
    async handle({ req, params, body, caller }) {
      const current = await requireService(registry, params.id);
      const ifMatch = req.get('if-match');
      checkIfMatch(ifMatch, etagOf(current));
      const { allowHttp, ...changes } = body;
      if (Object.keys(changes).length === 0) throw apiError('NO_CHANGES');
      const warnings = plainHttpWarnings({ ...changes, allowHttp });
      const updated = await validated(() => registry.update(params.id, changes, ifMatch?.trim() === '*' ? undefined : current.version));
      await record('service_updated', updated, actorOf(req, caller), { changes: Object.keys(changes), ...(warnings ? { warnings } : {}) });
      return { status: 200, body: { ...serviceView(updated), ...(warnings ? { warnings } : {}) }, headers: { ETag: etagOf(updated) } };
    },
  });

const deleteRoute = (registry: ServiceRegistry, record: ServiceAudit) =>
  defineRoute({
    method: 'delete',
    path: '/services/{id}',
    access: 'admin',
    tag: 'services',
    summary: 'Remove a registered service (it gets no more tickets)',
    params: serviceIdParams,
    responses: { 204: { description: 'Removed.' } },
    async handle({ req, params, caller }) {
      const service = await requireService(registry, params.id);
      if (!(await registry.delete(params.id))) throw new NotFoundError(`No service with id ${params.id}.`);
      await record('service_deleted', service, actorOf(req, caller));
      return { status: 204 };
    },
  });

/** CRUD over the CAS service registry (src/cas/service-registry.ts), audited with the acting administrator. */
export function serviceRoutes(deps: ServiceRouteDeps): ApiRoute[] {
  const registry = deps.serviceRegistry;
  const record = serviceAudit(deps);
  return [listRoute(registry), createRoute(registry, record), getRoute(registry), updateRoute(registry, record), deleteRoute(registry, record)];
}
