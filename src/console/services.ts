import { type Request, type Response, Router } from 'express';
import { serviceAudit } from '../admin/handlers/services';
import { serviceCreateSchema } from '../admin/schemas';
import { checkServiceUrl, isPattern, serviceMatcher } from '../cas/service-pattern';
import type { RegisteredService, ServiceInput } from '../cas/service-registry';
import type { Params } from '../http/params';
import { ConflictError, InputError, NotFoundError } from '../shared/errors';
import { html } from '../web/html';
import type { Translator } from '../web/i18n';
import { type ConsoleDeps, actorOf, checkedForm, consolePage, formBody } from './context';
import { type ConsolePage, checkbox, consoleLayout, csrfField, field, selectField } from './views';

type FieldErrors = Record<string, string[]>;

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

export interface UrlTest {
  url: string;
  problem?: string;
  hit?: RegisteredService;
  /** Every enabled service, in the order they are tried, and whether it matches. */
  candidates: { service: RegisteredService; kind: 'exact' | 'pattern'; matches: boolean }[];
}

export function servicePages(deps: ConsoleDeps): Router {
  const router = Router();
  const registry = deps.services.serviceRegistry;
  const record = serviceAudit(deps.services);

  async function testUrl(url: string): Promise<UrlTest> {
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

  router.get('/admin/services', async (req, res) => {
    const page = consolePage(deps, req, res, 'services');
    const url = new URLSearchParams(req.originalUrl.split('?')[1] ?? '').get('test') ?? undefined;
    res.type('html').send(serviceList(page, await registry.list(), url === undefined || url === '' ? undefined : await testUrl(url)));
  });

  function serviceList(page: ConsolePage, services: RegisteredService[], test?: UrlTest): string {
    const { t } = page.tr;
    return consoleLayout(
      page,
      t('console.services.title'),
      html`<p><a class="button" href="/admin/services/new">${t('console.services.register')}</a></p>
<table><caption>${t('console.services.caption', { total: services.length })}</caption>
<thead><tr><th scope="col">${t('console.service.name')}</th><th scope="col">${t('console.service.url')}</th><th scope="col">${t('console.service.order')}</th><th scope="col">${t('console.account.state')}</th></tr></thead>
<tbody>${services.map((s) => html`<tr><th scope="row"><a href="/admin/services/${s.id}">${s.name}</a></th><td><code>${s.serviceUrl}</code></td><td>${s.evaluationOrder}</td><td>${s.enabled ? t('console.state.enabled') : t('console.state.disabled')}</td></tr>`)}</tbody></table>
<section aria-labelledby="tester-heading"><h2 id="tester-heading">${t('console.services.tester')}</h2>
<form method="get" action="/admin/services" role="search">
${field('test', t('console.services.testUrl'), { type: 'url', value: test?.url, hint: t('console.services.testHint') })}
<button type="submit">${t('console.services.test')}</button>
</form>
${test ? testResult(page, test) : null}</section>`,
    );
  }

  function testResult(page: ConsolePage, test: UrlTest) {
    const { t } = page.tr;
    const verdict = test.problem
      ? t('console.services.invalidUrl', { reason: test.problem })
      : test.hit
        ? t(test.hit.serviceUrl === test.url ? 'console.services.hitExact' : 'console.services.hitPattern', { name: test.hit.name, order: test.hit.evaluationOrder })
        : t('console.services.noHit');
    return html`<div class="notice ${test.hit ? 'success' : 'error'}" role="status" id="test-result"><p>${verdict}</p></div>
<table><caption>${t('console.services.orderCaption')}</caption><thead><tr><th scope="col">${t('console.service.name')}</th><th scope="col">${t('console.service.url')}</th><th scope="col">${t('console.services.kind')}</th><th scope="col">${t('console.service.order')}</th><th scope="col">${t('console.services.matches')}</th></tr></thead>
<tbody>${test.candidates.map(
      (c) =>
        html`<tr ${c.service.id === test.hit?.id ? html`class="hit"` : null}><th scope="row">${c.service.name}</th><td><code>${c.service.serviceUrl}</code></td><td>${t(`console.services.kind.${c.kind}`)}</td><td>${c.service.evaluationOrder}</td><td>${c.matches ? t('console.yes') : t('console.no')}</td></tr>`,
    )}</tbody></table>`;
  }

  function serviceForm(page: ConsolePage, action: string, v: Record<string, unknown>, errors: FieldErrors, version?: number): string {
    const { t } = page.tr;
    const s = (name: string) => (v[name] === null || v[name] === undefined ? '' : Array.isArray(v[name]) ? (v[name] as string[]).join(', ') : String(v[name]));
    return consoleLayout(
      page,
      version === undefined ? t('console.services.register') : t('console.services.editTitle', { name: s('name') }),
      html`${errors.form ? html`<div class="notice error" role="alert"><p>${errors.form.join(' ')}</p></div>` : null}
<form method="post" action="${action}" novalidate>
${csrfField(page)}${version !== undefined ? html`<input type="hidden" name="version" value="${version}">` : null}
${field('name', t('console.service.name'), { value: s('name'), required: true, errors: errors.name })}
${field('serviceUrl', t('console.service.url'), { value: s('serviceUrl'), required: true, hint: t('console.services.urlHint'), errors: errors.serviceUrl })}
${field('description', t('console.account.description'), { value: s('description'), errors: errors.description })}
${field('evaluationOrder', t('console.service.order'), { type: 'number', value: s('evaluationOrder') || '0', errors: errors.evaluationOrder })}
${field('releasedAttributes', t('console.service.attributes'), { value: s('releasedAttributes'), hint: t('console.services.attributesHint'), errors: errors.releasedAttributes })}
${field('proxyCallback', t('console.service.proxyCallback'), { value: s('proxyCallback'), errors: errors.proxyCallback })}
${checkbox('acceptsProxyTickets', t('console.service.acceptsProxyTickets'), v.acceptsProxyTickets === true)}
${selectField('logoutType', t('console.service.logoutType'), [['back_channel', t('console.service.logout.back_channel')], ['none', t('console.service.logout.none')]], s('logoutType') || 'back_channel', errors.logoutType)}
${field('logoutUrl', t('console.service.logoutUrl'), { value: s('logoutUrl'), errors: errors.logoutUrl })}
${checkbox('enabled', t('console.account.enabled'), v.enabled !== false)}
<button type="submit">${t('console.save')}</button>
</form>
${version !== undefined ? html`<form method="post" action="${action}/delete" class="danger-zone">${csrfField(page)}${checkbox('confirm', t('console.services.confirmRemove', { name: s('name') }), false)}<button type="submit" class="danger">${t('console.services.remove')}</button></form>` : null}`,
    );
  }

  async function load(req: Request): Promise<RegisteredService> {
    const id = Number(req.params.id);
    const service = Number.isSafeInteger(id) && id > 0 ? await registry.get(id) : null;
    if (!service) throw new NotFoundError('No such service.');
    return service;
  }

  router.get('/admin/services/new', (req, res) => {
    res.type('html').send(serviceForm(consolePage(deps, req, res, 'services'), '/admin/services', { enabled: true }, {}));
  });

  async function save(req: Request, res: Response, existing?: RegisteredService): Promise<void> {
    const form = checkedForm(deps, req, res);
    if (!form) return;
    const input = inputFrom(form);
    const page = consolePage(deps, req, res, 'services');
    const action = existing ? `/admin/services/${existing.id}` : '/admin/services';
    const parsed = serviceCreateSchema.safeParse(input);
    const fail = (status: number, errors: FieldErrors) => void res.status(status).type('html').send(serviceForm(page, action, input, errors, existing?.version));
    if (!parsed.success) {
      const errors: FieldErrors = {};
      for (const issue of parsed.error.issues) (errors[String(issue.path[0] ?? 'form')] ??= []).push(page.tr.t('console.field.invalid', { detail: issue.message }));
      return fail(422, errors);
    }
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

  router.post('/admin/services', formBody, (req, res) => save(req, res));
  router.get('/admin/services/:id', async (req, res) => {
    const service = await load(req);
    res.type('html').send(serviceForm(consolePage(deps, req, res, 'services'), `/admin/services/${service.id}`, { ...service }, {}, service.version));
  });
  router.post('/admin/services/:id', formBody, async (req, res) => save(req, res, await load(req)));
  router.post('/admin/services/:id/delete', formBody, async (req, res) => {
    const form = checkedForm(deps, req, res);
    if (!form) return;
    const service = await load(req);
    const page = consolePage(deps, req, res, 'services');
    if (form.get('confirm') !== 'true') return void res.status(422).type('html').send(serviceForm(page, `/admin/services/${service.id}`, { ...service }, { form: [page.tr.t('console.accounts.confirmMissing')] }, service.version));
    if (await registry.delete(service.id)) await record('service_deleted', service, actorOf(req, res));
    res.redirect(303, '/admin/services?done=removed');
  });
  return router;
}
