import type { RegisteredService } from '../cas/service-registry';
import { html } from '../web/html';
import { type ConsolePage, type FieldErrors, checkbox, consoleLayout, csrfField, field, selectField } from './views';

/** The service pages' HTML (src/console/services.ts has the routes). */

export interface UrlTest {
  url: string;
  problem?: string;
  hit?: RegisteredService;
  /** Every enabled service, in the order they are tried, and whether it matches. */
  candidates: { service: RegisteredService; kind: 'exact' | 'pattern'; matches: boolean }[];
}

export function serviceList(page: ConsolePage, services: RegisteredService[], test?: UrlTest): string {
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

export function serviceForm(page: ConsolePage, action: string, v: Record<string, unknown>, errors: FieldErrors, version?: number): string {
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
