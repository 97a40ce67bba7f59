import { type SafeHtml, html } from '../web/html';
import { CATALOGUES, type MessageKey, type Translator, isMessageKey } from '../web/i18n';
import { type Notice, type Page, languageSwitcher, notice } from '../web/views';

/**
 * HTML of the admin console's pages (server-rendered, no inline script or
 * style). Every text comes from the catalogues in src/web/locales.
 */

/** Messages per form field; `form` for the whole form. */
export type FieldErrors = Record<string, string[]>;

export type Section = 'dashboard' | 'accounts' | 'services' | 'audit' | 'policy';

export interface ConsolePage extends Page {
  section: Section;
  username: string;
  csrf: string;
  notice?: Notice;
}

const SECTIONS: [Section, string, MessageKey][] = [
  ['dashboard', '/admin', 'console.nav.dashboard'],
  ['accounts', '/admin/accounts', 'console.nav.accounts'],
  ['services', '/admin/services', 'console.nav.services'],
  ['audit', '/admin/audit', 'console.nav.audit'],
  ['policy', '/admin/policy', 'console.nav.policy'],
];

export function consoleLayout(page: ConsolePage, title: string, body: SafeHtml): string {
  const { t } = page.tr;
  return `<!DOCTYPE html>\n${html`<html lang="${page.tr.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · ${t('console.title')} · ${page.productName}</title>
<link rel="stylesheet" href="/cas/static/portcullis.css">
<link rel="stylesheet" href="/cas/static/console.css">
${page.themeUrl ? html`<link rel="stylesheet" href="${page.themeUrl}">` : null}
</head>
<body class="console">
<a class="skip" href="#main">${t('console.skip')}</a>
<header class="top">
<p class="brand">${page.logoUrl ? html`<img src="${page.logoUrl}" alt="" class="logo"> ` : null}<span>${page.productName}</span> <span class="sub">${t('console.title')}</span></p>
<nav aria-label="${t('console.nav.label')}"><ul>${SECTIONS.map(([section, href, key]) =>
    html`<li><a href="${href}" ${section === page.section ? html`aria-current="page"` : null}>${t(key)}</a></li>`,
  )}</ul></nav>
<p class="who">${page.tr.h('console.signedInAs', { username: html`<strong>${page.username}</strong>` })} <a href="/cas/logout">${t('loggedIn.signOut')}</a></p>
</header>
<main id="main">
<h1>${title}</h1>
${notice(page.notice)}
${body}
</main>
<footer>${languageSwitcher(page)}</footer>
</body>
</html>`.value}\n`;
}

export function csrfField(page: ConsolePage): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${page.csrf}">`;
}

export interface FieldOptions {
  type?: string;
  value?: string | number | null;
  required?: boolean;
  hint?: string;
  errors?: string[];
  autocomplete?: string;
  maxlength?: number;
}

/** A labelled input with its hint and the errors found in it (described by, so screen readers read them). */
export function field(name: string, label: string, o: FieldOptions = {}): SafeHtml {
  const describedBy = [o.hint ? `${name}-hint` : '', o.errors?.length ? `${name}-errors` : ''].filter(Boolean).join(' ');
  return html`<div class="field">
<label for="${name}">${label}</label>
<input id="${name}" name="${name}" type="${o.type ?? 'text'}" value="${o.value ?? ''}" ${o.required ? html`required` : null} ${o.autocomplete ? html`autocomplete="${o.autocomplete}"` : null} ${o.maxlength ? html`maxlength="${o.maxlength}"` : null} ${describedBy ? html`aria-describedby="${describedBy}"` : null} ${o.errors?.length ? html`aria-invalid="true"` : null}>
${o.hint ? html`<p class="hint" id="${name}-hint">${o.hint}</p>` : null}
${o.errors?.length ? html`<ul class="field-errors" id="${name}-errors">${o.errors.map((e) => html`<li>${e}</li>`)}</ul>` : null}
</div>`;
}

export function selectField(name: string, label: string, options: [string, string][], selected: string | undefined, errors?: string[]): SafeHtml {
  return html`<div class="field">
<label for="${name}">${label}</label>
<select id="${name}" name="${name}" ${errors?.length ? html`aria-invalid="true" aria-describedby="${name}-errors"` : null}>${options.map(
    ([value, text]) => html`<option value="${value}" ${value === (selected ?? '') ? html`selected` : null}>${text}</option>`,
  )}</select>
${errors?.length ? html`<ul class="field-errors" id="${name}-errors">${errors.map((e) => html`<li>${e}</li>`)}</ul>` : null}
</div>`;
}

export function checkbox(name: string, label: string, checked: boolean): SafeHtml {
  return html`<div class="field check"><input id="${name}" name="${name}" type="checkbox" value="true" ${checked ? html`checked` : null}> <label for="${name}">${label}</label></div>`;
}

/** Previous/next links for a paged list; `base` already carries the filters. */
export function pager(page: ConsolePage, base: URLSearchParams, path: string, offset: number, limit: number, total: number): SafeHtml {
  const { t } = page.tr;
  const link = (to: number) => {
    const q = new URLSearchParams(base);
    q.set('offset', String(to));
    return `${path}?${q.toString()}`;
  };
  const last = Math.min(offset + limit, total);
  return html`<nav class="pager" aria-label="${t('console.pager.label')}"><p>${t('console.pager.range', { from: total === 0 ? 0 : offset + 1, to: last, total })}</p>
${offset > 0 ? html`<a href="${link(Math.max(0, offset - limit))}" rel="prev">${t('console.pager.previous')}</a>` : null}
${last < total ? html`<a href="${link(offset + limit)}" rel="next">${t('console.pager.next')}</a>` : null}</nav>`;
}

/** Local time as the operator reads it (UTC, ISO-like, unambiguous in both languages). */
export function time(ms: number | null): string {
  return ms === null ? '—' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * A fixed code (audit event, account source) in the page's language when the
 * catalogue knows it; anything else — a configured backend's name, an event
 * added later — is shown as stored rather than guessed at.
 */
/** The audit events the console has names for (a `console.event.*` message each), by code. */
export const NAMED_EVENTS: readonly string[] = Object.keys(CATALOGUES.en)
  .filter((key) => key.startsWith('console.event.'))
  .map((key) => key.slice('console.event.'.length));

export function vocabulary(tr: Translator, kind: 'event' | 'source', code: string | null | undefined): string {
  if (!code) return '';
  const key = `console.${kind}.${code}`;
  return isMessageKey(key) ? tr.t(key) : code;
}
