import { type Request, Router } from 'express';
import type { AuditQuery, AuditRecord } from '../storage/audit-log';
import { html } from '../web/html';
import { type ConsoleDeps, consolePage } from './context';
import type { Translator } from '../web/i18n';
import { type ConsolePage, NAMED_EVENTS, consoleLayout, field, pager, selectField, time, vocabulary } from './views';

const PAGE_SIZE = 50;
/** The CSV export's bound: a bigger trail is exported a time range at a time. */
export const CSV_MAX_ROWS = 10_000;

/** `YYYY-MM-DDTHH:MM` from a datetime-local field, read as UTC (the console shows UTC). */
function utcTime(value: string | null): number | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return undefined;
  const ms = Date.parse(`${value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

function filtersOf(req: Request): { raw: URLSearchParams; query: AuditQuery } {
  const params = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
  const raw = new URLSearchParams([...params].filter(([k, v]) => ['username', 'event', 'from', 'to'].includes(k) && v !== '' && v.length <= 256));
  const offset = Number(params.get('offset') ?? 0);
  return {
    raw,
    query: {
      username: raw.get('username') ?? undefined,
      event: raw.get('event') ?? undefined,
      from: utcTime(raw.get('from')),
      to: utcTime(raw.get('to')),
      offset: Number.isSafeInteger(offset) && offset >= 0 ? offset : 0,
    },
  };
}

/**
 * The event filter's choices: every named event by its name in the page's
 * language (the value is the code the audit log stores), sorted by name; a
 * code without a name that arrives in the query stays selectable as itself.
 */
function eventOptions(tr: Translator, selected: string | null): [string, string][] {
  const named = NAMED_EVENTS.map((code): [string, string] => [code, vocabulary(tr, 'event', code)]).sort(([, a], [, b]) => a.localeCompare(b, tr.lang));
  const unnamed: [string, string][] = selected && !NAMED_EVENTS.includes(selected) ? [[selected, selected]] : [];
  return [['', tr.t('console.any')], ...named, ...unnamed];
}

/** A CSV cell: quoted, and a leading formula character neutralised so spreadsheets do not run it. */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

export function auditPages(deps: ConsoleDeps): Router {
  const router = Router();
  const { audit } = deps;

  router.get('/admin/audit', async (req, res) => {
    const page = consolePage(deps, req, res, 'audit');
    const { raw, query } = filtersOf(req);
    const { events, total } = await audit.query({ ...query, limit: PAGE_SIZE });
    res.type('html').send(auditList(page, raw, query.offset ?? 0, events, total));
  });

  router.get('/admin/audit.csv', async (req, res) => {
    const { query } = filtersOf(req);
    const { events } = await audit.query({ ...query, offset: 0, limit: CSV_MAX_ROWS });
    const header = ['id', 'time', 'event', 'outcome', 'username', 'actor', 'backend', 'clientIp', 'details'];
    const lines = events.map((e) => [e.id, new Date(e.at).toISOString(), e.event, e.outcome, e.username, e.actor, e.backend, e.clientIp, e.details].map(csvCell).join(','));
    res.type('text/csv; charset=utf-8').set('Content-Disposition', 'attachment; filename="portcullis-audit.csv"');
    // The BOM lets spreadsheet programs read UTF-8 (Japanese names) correctly.
    res.send(`\uFEFF${[header.join(','), ...lines].join('\r\n')}\r\n`);
  });

  function auditList(page: ConsolePage, raw: URLSearchParams, offset: number, events: AuditRecord[], total: number): string {
    const { t } = page.tr;
    return consoleLayout(
      page,
      t('console.audit.title'),
      html`<form method="get" action="/admin/audit" class="filters" role="search">
${field('username', t('console.account.username'), { value: raw.get('username') })}
${selectField('event', t('console.audit.event'), eventOptions(page.tr, raw.get('event')), raw.get('event') ?? '')}
${field('from', t('console.audit.from'), { type: 'datetime-local', value: raw.get('from') })}
${field('to', t('console.audit.to'), { type: 'datetime-local', value: raw.get('to') })}
<button type="submit">${t('console.filter')}</button>
</form>
<p><a class="button" href="/admin/audit.csv?${raw.toString()}" download>${t('console.audit.csv')}</a></p>
<table><caption>${t('console.audit.caption', { total })}</caption>
<thead><tr><th scope="col">${t('console.audit.time')}</th><th scope="col">${t('console.audit.event')}</th><th scope="col">${t('console.audit.outcome')}</th><th scope="col">${t('console.account.username')}</th><th scope="col">${t('console.audit.actor')}</th><th scope="col">${t('console.audit.client')}</th><th scope="col">${t('console.audit.details')}</th></tr></thead>
<tbody>${events.map(
        (e) =>
          html`<tr><td>${time(e.at)}</td><td>${vocabulary(page.tr, 'event', e.event)}</td><td>${t(`console.outcome.${e.outcome}`)}</td><td>${e.username ?? ''}</td><td>${e.actor ?? ''}</td><td>${e.clientIp ?? ''}</td><td><code>${e.details ? JSON.stringify(e.details) : ''}</code></td></tr>`,
      )}</tbody></table>
${pager(page, raw, '/admin/audit', offset, PAGE_SIZE, total)}`,
    );
  }
  return router;
}
