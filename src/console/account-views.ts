import type { z } from 'zod';
import type { listAccounts } from '../admin/account-views';
import { lockoutView } from '../admin/account-views';
import type { LockView } from '../policy/regulator';
import type { LockoutState } from '../storage/lockout-store';
import type { accountListQuery } from '../admin/schemas';
import type { AuditRecord } from '../storage/audit-log';
import type { Account } from '../accounts/account';
import type { StoredTicket } from '../tickets/registry';
import { type SafeHtml, html } from '../web/html';
import type { Translator } from '../web/i18n';
import { type ConsolePage, type FieldErrors, checkbox, consoleLayout, csrfField, field, pager, selectField, time, vocabulary } from './views';

/** The account pages' HTML (src/console/accounts.ts has the routes). */

function roleOptions(t: Translator['t']): [string, string][] {
  return [
    ['user', t('console.role.user')],
    ['admin', t('console.role.admin')],
  ];
}

function formErrors(errors: FieldErrors): string[] {
  return errors.form ?? [];
}

export function createForm(page: ConsolePage, values: Record<string, string>, errors: FieldErrors, minLength: number): string {
  const { t } = page.tr;
  return consoleLayout(
    page,
    t('console.accounts.createTitle'),
    html`${formErrors(errors).length ? html`<div class="notice error" role="alert"><p>${formErrors(errors).join(' ')}</p></div>` : null}
${Object.keys(errors).length ? html`<div class="notice error" role="alert"><p>${t('console.error.fixFields')}</p></div>` : null}
<form method="post" action="/admin/accounts" class="stack" novalidate>
${csrfField(page)}
${field('username', t('console.account.username'), { value: values.username, required: true, autocomplete: 'off', errors: errors.username, maxlength: 256 })}
${field('displayName', t('console.account.displayName'), { value: values.displayName, errors: errors.displayName })}
${field('email', t('console.account.email'), { type: 'email', value: values.email, errors: errors.email })}
${field('description', t('console.account.description'), { value: values.description, errors: errors.description })}
${selectField('role', t('console.account.role'), roleOptions(t), values.role ?? 'user', errors.role)}
${field('password', t('console.account.initialPassword'), { type: 'password', autocomplete: 'new-password', hint: t('password.rules', { min: minLength }), errors: errors.password })}
${checkbox('mustChangePassword', t('console.account.mustChange'), values.mustChangePassword !== 'false')}
${checkbox('enabled', t('console.account.enabled'), values.enabled !== 'false')}
<button type="submit">${t('console.accounts.create')}</button>
</form>`,
  );
}

export function accountList(
  page: ConsolePage,
  raw: Record<string, string>,
  query: z.output<typeof accountListQuery>,
  items: Awaited<ReturnType<typeof listAccounts>>['items'],
  total: number,
  /** The regulator's view of a listed name's counter (src/policy/regulator.ts). */
  lockOf: (state: LockoutState) => LockView,
): string {
  const { t } = page.tr;
  const filters = new URLSearchParams(Object.entries(raw).filter(([k]) => k !== 'offset'));
  return consoleLayout(
    page,
    t('console.accounts.title'),
    html`<p><a class="button" href="/admin/accounts/new">${t('console.accounts.create')}</a></p>
<form method="get" action="/admin/accounts" class="filters" role="search">
${field('search', t('console.accounts.search'), { type: 'search', value: raw.search })}
${selectField('role', t('console.account.role'), [['', t('console.any')], ...roleOptions(t)], raw.role)}
${field('source', t('console.account.source'), { value: raw.source })}
${selectField('state', t('console.account.state'), [['', t('console.any')], ['enabled', t('console.state.enabled')], ['disabled', t('console.state.disabled')]], raw.state)}
${selectField('locked', t('console.account.lockout'), [['', t('console.any')], ['true', t('console.lock.locked')], ['false', t('console.lock.notLocked')]], raw.locked)}
<button type="submit">${t('console.filter')}</button>
</form>
<table>
<caption>${t('console.accounts.caption', { total })}</caption>
<thead><tr><th scope="col">${t('console.account.username')}</th><th scope="col">${t('console.account.displayName')}</th><th scope="col">${t('console.account.role')}</th><th scope="col">${t('console.account.source')}</th><th scope="col">${t('console.account.state')}</th><th scope="col">${t('console.account.lockout')}</th><th scope="col">${t('console.account.lastLogin')}</th></tr></thead>
<tbody>${items.map(({ account, lockout }) => {
      const lock = lockoutView(lockOf(lockout));
      return html`<tr><th scope="row"><a href="/admin/accounts/${account.id}">${account.username}</a></th><td>${account.displayName ?? ''}</td><td>${t(`console.role.${account.role}`)}</td><td>${vocabulary(page.tr, 'source', account.source)}</td><td>${account.enabled ? t('console.state.enabled') : t('console.state.disabled')}</td><td>${lock.locked ? t('console.lock.lockedUntil', { until: time(lockout.lockedUntil) }) : lock.failureCount > 0 ? t('console.lock.failures', { count: lock.failureCount }) : '—'}</td><td>${time(account.lastLoginAt)}</td></tr>`;
    })}</tbody>
</table>
${pager(page, filters, '/admin/accounts', query.offset ?? 0, query.limit ?? 25, total)}`,
  );
}

/** The password form (internal accounts only). */
function passwordSection(page: ConsolePage, account: Account, errors: FieldErrors, minLength: number): SafeHtml {
  const { t } = page.tr;
  return html`<section aria-labelledby="password-heading"><h2 id="password-heading">${t('console.accounts.setPassword')}</h2>
<form method="post" action="/admin/accounts/${account.id}/password" novalidate>
${csrfField(page)}
${field('password', t('password.new'), { type: 'password', autocomplete: 'new-password', hint: t('password.rules', { min: minLength }), errors: errors.password })}
${checkbox('mustChangePassword', t('console.account.mustChange'), true)}
<button type="submit">${t('console.accounts.setPassword')}</button>
</form></section>`;
}

/** The account's sign-on sessions, each with a button to end it. */
function sessionsSection(page: ConsolePage, account: Account, sessions: StoredTicket[]): SafeHtml {
  const { t } = page.tr;
  return html`<section aria-labelledby="sessions-heading"><h2 id="sessions-heading">${t('console.accounts.sessions')}</h2>
${sessions.length === 0 ? html`<p>${t('console.none')}</p>` : html`<table><thead><tr><th scope="col">${t('console.accounts.signedIn')}</th><th scope="col">${t('console.accounts.expires')}</th><th scope="col">${t('console.accounts.backend')}</th><th scope="col"><span class="visually-hidden">${t('console.accounts.endSession')}</span></th></tr></thead><tbody>${sessions.map(
      (session) =>
        html`<tr><td>${time(session.createdAt)}</td><td>${time(Math.min(session.expiresAt, session.idleExpiresAt))}</td><td>${vocabulary(page.tr, 'source', typeof session.data.backend === 'string' ? session.data.backend : null)}</td><td><form method="post" action="/admin/accounts/${account.id}/sessions">${csrfField(page)}<input type="hidden" name="session" value="${session.key}"><button type="submit">${t('console.accounts.endSession')}</button></form></td></tr>`,
    )}</tbody></table>`}</section>`;
}

/** The account's latest audit events, with a link to all of them. */
function eventsSection(page: ConsolePage, account: Account, events: AuditRecord[]): SafeHtml {
  const { t } = page.tr;
  return html`<section aria-labelledby="audit-heading"><h2 id="audit-heading">${t('console.accounts.recentEvents')}</h2>
${events.length === 0 ? html`<p>${t('console.none')}</p>` : html`<table><thead><tr><th scope="col">${t('console.audit.time')}</th><th scope="col">${t('console.audit.event')}</th><th scope="col">${t('console.audit.outcome')}</th><th scope="col">${t('console.audit.actor')}</th></tr></thead><tbody>${events.map(
      (e) => html`<tr><td>${time(e.at)}</td><td>${vocabulary(page.tr, 'event', e.event)}</td><td>${t(`console.outcome.${e.outcome}`)}</td><td>${e.actor ?? ''}</td></tr>`,
    )}</tbody></table>`}
<p><a href="/admin/audit?username=${encodeURIComponent(account.username)}">${t('console.accounts.allEvents')}</a></p></section>`;
}

export function accountDetail(
  page: ConsolePage,
  account: Account,
  lockout: ReturnType<typeof lockoutView>,
  events: AuditRecord[],
  sessions: StoredTicket[],
  errors: FieldErrors,
  values: Record<string, string> | undefined,
  limits: { maxAdministrators: number; minLength: number },
): string {
  const { t } = page.tr;
  const v = values ?? { displayName: account.displayName ?? '', email: account.email ?? '', description: account.description ?? '', role: account.role, enabled: String(account.enabled) };
  return consoleLayout(
    page,
    t('console.accounts.accountTitle', { username: account.username }),
    html`${formErrors(errors).length ? html`<div class="notice error" role="alert"><p>${formErrors(errors).join(' ')}</p></div>` : null}
<dl class="facts">
<dt>${t('console.account.source')}</dt><dd>${vocabulary(page.tr, 'source', account.source)}</dd>
<dt>${t('console.account.lockout')}</dt><dd>${lockout.locked ? t('console.lock.lockedUntil', { until: time(lockout.lockedUntil ? Date.parse(lockout.lockedUntil) : null) }) : lockout.failureCount > 0 ? t('console.lock.failures', { count: lockout.failureCount }) : t('console.lock.notLocked')}</dd>
<dt>${t('console.account.lastLogin')}</dt><dd>${time(account.lastLoginAt)}</dd>
<dt>${t('console.account.mustChangeNow')}</dt><dd>${account.mustChangePassword ? t('console.yes') : t('console.no')}</dd>
</dl>
${lockout.locked || lockout.failureCount > 0 ? html`<form method="post" action="/admin/accounts/${account.id}/unlock">${csrfField(page)}<button type="submit">${t('console.accounts.unlock')}</button></form>` : null}
<section aria-labelledby="edit-heading"><h2 id="edit-heading">${t('console.accounts.edit')}</h2>
<form method="post" action="/admin/accounts/${account.id}" novalidate>
${csrfField(page)}<input type="hidden" name="version" value="${account.version}">
${field('displayName', t('console.account.displayName'), { value: v.displayName, errors: errors.displayName })}
${field('email', t('console.account.email'), { type: 'email', value: v.email, errors: errors.email })}
${field('description', t('console.account.description'), { value: v.description, errors: errors.description })}
${selectField('role', t('console.account.role'), roleOptions(t), v.role, errors.role)}
${checkbox('enabled', t('console.account.enabled'), v.enabled === 'true')}
<p class="hint">${t('console.accounts.adminRules', { max: limits.maxAdministrators })}</p>
<button type="submit">${t('console.save')}</button>
</form></section>
${account.source === 'internal' ? passwordSection(page, account, errors, limits.minLength) : null}
${sessionsSection(page, account, sessions)}
${eventsSection(page, account, events)}
<section aria-labelledby="delete-heading"><h2 id="delete-heading">${t('console.accounts.delete')}</h2>
<form method="post" action="/admin/accounts/${account.id}/delete">
${csrfField(page)}
${checkbox('confirm', t('console.accounts.confirmDelete', { username: account.username }), false)}
${errors.confirm ? html`<ul class="field-errors">${errors.confirm.map((e) => html`<li>${e}</li>`)}</ul>` : null}
<button type="submit" class="danger">${t('console.accounts.delete')}</button>
</form></section>`,
  );
}
