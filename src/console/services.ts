import { type Request, type RequestHandler, type Response, Router } from 'express';
import { serviceCreateSchema } from '../admin/schemas';
import { checkServiceUrl, isPattern, serviceMatcher } from '../cas/service-pattern';
import type { RegisteredService, ServiceInput } from '../cas/service-registry';
import type { Params } from '../http/params';
import { ConflictError, InputError, NotFoundError } from '../shared/errors';
import type { Translator } from '../web/i18n';
import { type ConsoleDeps, actorOf, checkedForm, consolePage, formBody, schemaErrors } from './context';
import { type UrlTest, serviceForm, serviceList } from './service-views';
import type { FieldErrors } from './views';

/** The form as the API's service schema would receive it (the registry then applies its own checks). */
function inputFrom(form: Params): Record<string, unknown> {
  const value = (name: string) => form.get(name)?.trim() ?? '';
  const orNull = (name: string) => (value(name) === '' ? null : value(name));
  return {
    name: value('name'),
    serviceUrl: value('serviceUrl'),
    description: orNull('description'),
    evaluationOrder: value('evaluationOrder') === '' ? 0 : Number(value('evaluationOrder')),
    enabled: form.get('enabled') === 'true',
    proxyCallback: orNull('proxyCallback'),
    acceptsProxyTickets: form.get('acceptsProxyTickets') === 'true',
    releasedAttributes: value('releasedAttributes').split(/[\s,]+/).filter(Boolean),
    logoutType: value('logoutType') || 'back_channel',
    logoutUrl: orNull('logoutUrl'),
  };
}

function refusal(error: unknown, tr: Translator): FieldErrors | null {
  if (error instanceof InputError) {
    const errors: FieldErrors = {};
    for (const f of error.fields) (errors[f.field ?? 'form'] ??= []).push(tr.t('console.field.invalid', { detail: f.message }));
    return Object.keys(errors).length ? errors : { form: [tr.t('console.field.invalid', { detail: error.message })] };
  }
  if (error instanceof ConflictError) return { [error.code === 'version_mismatch' ? 'form' : 'name']: [tr.t(error.code === 'version_mismatch' ? 'console.error.stale' : 'console.services.nameTaken')] };
  return null;
}

type Registry = ConsoleDeps['serviceRegistry'];
type ServiceAudit = ConsoleDeps['recordServiceEvent'];

/** Which enabled services a URL matches, in the registry's order, and which one wins. */
async function testUrl(registry: Registry, url: string): Promise<UrlTest> {
  const check = checkServiceUrl(url);
  const enabled = (await registry.list()).filter((s) => s.enabled);
  // The registry's own order: exact URLs first, then patterns by evaluation order (list() is sorted so).
  const ordered = [...enabled.filter((s) => !isPattern(s.serviceUrl)), ...enabled.filter((s) => isPattern(s.serviceUrl))];
  const candidates = ordered.map((service) => {
    const pattern = isPattern(service.serviceUrl);
    return { service, kind: pattern ? ('pattern' as const) : ('exact' as const), matches: check.ok && (pattern ? serviceMatcher(service.serviceUrl)(url) : service.serviceUrl === url) };
  });
  return { url, problem: check.ok ? undefined : check.reason, hit: (await registry.match(url)) ?? undefined, candidates };
}

/** The service named by the path's `:id` (a 404 page otherwise). */
async function loadService(registry: Registry, req: Request): Promise<RegisteredService> {
  const id = Number(req.params.id);
  const service = Number.isSafeInteger(id) && id > 0 ? await registry.get(id) : null;
  if (!service) throw new NotFoundError('No such service.');
  return service;
}

/** Registers a service, or saves the edit of `existing`; a refused form comes back with its errors. */
async function saveService(deps: ConsoleDeps, record: ServiceAudit, req: Request, res: Response, existing?: RegisteredService): Promise<void> {
  const registry = deps.serviceRegistry;
  const form = checkedForm(deps, req, res);
  if (!form) return;
  const input = inputFrom(form);
  const page = consolePage(deps, req, res, 'services');
  const action = existing ? `/admin/services/${existing.id}` : '/admin/services';
  const parsed = serviceCreateSchema.safeParse(input);
  const fail = (status: number, errors: FieldErrors) => void res.status(status).type('html').send(serviceForm(page, action, input, errors, existing?.version));
  if (!parsed.success) return fail(422, schemaErrors(parsed.error, page.tr));
  try {
    const body = parsed.data as ServiceInput;
    const saved = existing ? await registry.update(existing.id, body, Number(form.get('version'))) : await registry.create(body);
    await record(existing ? 'service_updated' : 'service_created', saved, actorOf(req, res), existing ? { changes: Object.keys(body) } : {});
    res.redirect(303, `/admin/services/${saved.id}?done=${existing ? 'updated' : 'registered'}`);
  } catch (error) {
    const errors = refusal(error, page.tr);
    if (!errors) throw error;
    fail(error instanceof ConflictError ? 409 : 422, errors);
  }
}

/** POST /admin/services/:id/delete: removes a service once the confirmation box is ticked. */
function removeService(deps: ConsoleDeps, record: ServiceAudit): RequestHandler {
  const registry = deps.serviceRegistry;
  return async (req, res) => {
    const form = checkedForm(deps, req, res);
    if (!form) return;
    const service = await loadService(registry, req);
    const page = consolePage(deps, req, res, 'services');
    if (form.get('confirm') !== 'true') return void res.status(422).type('html').send(serviceForm(page, `/admin/services/${service.id}`, { ...service }, { form: [page.tr.t('console.accounts.confirmMissing')] }, service.version));
    if (await registry.delete(service.id)) await record('service_deleted', service, actorOf(req, res));
    res.redirect(303, '/admin/services?done=removed');
  };
}

export function servicePages(deps: ConsoleDeps): Router {
  const router = Router();
  const registry = deps.serviceRegistry;
  const record = deps.recordServiceEvent;
  router.get('/admin/services', async (req, res) => {
    const page = consolePage(deps, req, res, 'services');
    const url = new URLSearchParams(req.originalUrl.split('?')[1] ?? '').get('test') ?? undefined;
    res.type('html').send(serviceList(page, await registry.list(), url === undefined || url === '' ? undefined : await testUrl(registry, url)));
  });
  router.get('/admin/services/new', (req, res) => {
    res.type('html').send(serviceForm(consolePage(deps, req, res, 'services'), '/admin/services', { enabled: true }, {}));
  });
  router.post('/admin/services', formBody, (req, res) => saveService(deps, record, req, res));
  router.get('/admin/services/:id', async (req, res) => {
    const service = await loadService(registry, req);
    res.type('html').send(serviceForm(consolePage(deps, req, res, 'services'), `/admin/services/${service.id}`, { ...service }, {}, service.version));
  });
  router.post('/admin/services/:id', formBody, async (req, res) => saveService(deps, record, req, res, await loadService(registry, req)));
  router.post('/admin/services/:id/delete', formBody, removeService(deps, record));
  return router;
}
