import { type Request, type Response, Router } from 'express';
import type { z } from 'zod';
import { listAccounts, lockoutView } from '../admin/account-views';
import { accountCreateSchema, accountListQuery, accountUpdateSchema, passwordResetSchema } from '../admin/schemas';
import type { Params } from '../http/params';
import type { StoredTicket } from '../tickets/registry';
import type { Account, AccountChanges } from '../storage/accounts-repo';
import { ConflictError, InputError, NotFoundError, PolicyError } from '../shared/errors';
import { html } from '../web/html';
import type { Translator } from '../web/i18n';
import { violationTexts } from '../web/views';
import { type ConsoleDeps, actorOf, checkedForm, consolePage, formBody, userOf } from './context';
import { type ConsolePage, checkbox, consoleLayout, csrfField, field, pager, selectField, time } from './views';

type FieldErrors = Record<string, string[]>;

/** zod's issues by form field (the API validates with the same schemas). */
function schemaErrors(error: z.ZodError, tr: Translator): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const name = String(issue.path[0] ?? 'form');
    (errors[name] ??= []).push(tr.t('console.field.invalid', { detail: issue.message }));
  }
  return errors;
}

/** A refusal from the account service as field errors in the page's language. */
function serviceErrors(deps: ConsoleDeps, error: unknown, tr: Translator): FieldErrors | null {
  const { t } = tr;
  if (error instanceof PolicyError) return { password: error.violations.length ? violationTexts(tr, error.violations) : [error.message] };
  if (error instanceof ConflictError) {
    const max = deps.services.policy.get().administrators.maxAdministratorCount;
    switch (error.code) {
      case 'administrator_limit':
        return { role: [t('console.error.administratorLimit', { max })] };
      case 'last_administrator':
        return { role: [t('console.error.lastAdministrator')] };
      case 'username_taken':
        return { username: [t('console.error.usernameTaken')] };
      case 'version_mismatch':
        return { form: [t('console.error.stale')] };
    }
  }
  if (error instanceof InputError) return { [error.fields[0]?.field ?? 'username']: [t('console.field.invalid', { detail: error.message })] };
  return null;
}

const text = (form: Params, name: string) => form.get(name)?.trim() ?? '';
const optional = (value: string) => (value === '' ? undefined : value);
const nullable = (value: string) => (value === '' ? null : value);

function roleOptions(t: Translator['t']): [string, string][] {
  return [
    ['user', t('console.role.user')],
    ['admin', t('console.role.admin')],
  ];
}

function formErrors(errors: FieldErrors): string[] {
  return errors.form ?? [];
}

function createForm(page: ConsolePage, values: Record<string, string>, errors: FieldErrors, minLength: number): string {
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

export function accountPages(deps: ConsoleDeps): Router {
  const router = Router();
  const { accountService, lockouts, clock, db, audit, policy } = deps.services;
  const minLength = () => policy.get().password.minLength;

  router.get('/admin/accounts', async (req, res) => {
    const page = consolePage(deps, req, res, 'accounts');
    const raw = Object.fromEntries([...new URLSearchParams(req.originalUrl.split('?')[1] ?? '')].filter(([k, v]) => v !== '' && k !== 'done'));
    const parsed = accountListQuery.safeParse({ limit: '25', ...raw });
    const query = parsed.success ? parsed.data : { limit: 25 };
    const { items, total } = await listAccounts(db.knex, query, clock.now());
    res.type('html').send(accountList(page, raw, query, items, total));
  });

  function accountList(page: ConsolePage, raw: Record<string, string>, query: z.output<typeof accountListQuery>, items: Awaited<ReturnType<typeof listAccounts>>['items'], total: number): string {
    const { t } = page.tr;
    const now = clock.now();
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
        const lock = lockoutView(lockout, now);
        return html`<tr><th scope="row"><a href="/admin/accounts/${account.id}">${account.username}</a></th><td>${account.displayName ?? ''}</td><td>${t(`console.role.${account.role}`)}</td><td>${account.source}</td><td>${account.enabled ? t('console.state.enabled') : t('console.state.disabled')}</td><td>${lock.locked ? t('console.lock.lockedUntil', { until: time(lockout.lockedUntil) }) : lock.failureCount > 0 ? t('console.lock.failures', { count: lock.failureCount }) : '—'}</td><td>${time(account.lastLoginAt)}</td></tr>`;
      })}</tbody>
</table>
${pager(page, filters, '/admin/accounts', query.offset ?? 0, query.limit ?? 25, total)}`,
    );
  }

  router.get('/admin/accounts/new', (req, res) => {
    res.type('html').send(createForm(consolePage(deps, req, res, 'accounts'), {}, {}, minLength()));
  });

  router.post('/admin/accounts', formBody, async (req, res) => {
    const form = checkedForm(deps, req, res);
    if (!form) return;
    const values = Object.fromEntries(['username', 'displayName', 'email', 'description', 'role'].map((k) => [k, text(form, k)]));
    values.mustChangePassword = String(form.get('mustChangePassword') === 'true');
    values.enabled = String(form.get('enabled') === 'true');
    const page = consolePage(deps, req, res, 'accounts');
    const parsed = accountCreateSchema.safeParse({
      username: values.username,
      password: optional(form.get('password') ?? ''),
      role: values.role,
      displayName: optional(values.displayName),
      email: optional(values.email),
      description: optional(values.description),
      enabled: values.enabled === 'true',
      mustChangePassword: values.mustChangePassword === 'true',
    });
    if (!parsed.success) return void res.status(422).type('html').send(createForm(page, values, schemaErrors(parsed.error, page.tr), minLength()));
    try {
      const account = await accountService.create(parsed.data, actorOf(req, res));
      res.redirect(303, `/admin/accounts/${account.id}?done=created`);
    } catch (error) {
      const errors = serviceErrors(deps, error, page.tr);
      if (!errors) throw error;
      res.status(error instanceof ConflictError ? 409 : 422).type('html').send(createForm(page, values, errors, minLength()));
    }
  });

  async function load(req: Request): Promise<Account> {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError('No such account.');
    return accountService.get(id);
  }

  async function showAccount(req: Request, res: Response, account: Account, status = 200, errors: FieldErrors = {}, values?: Record<string, string>): Promise<void> {
    const page = consolePage(deps, req, res, 'accounts', Object.keys(errors).length ? { kind: 'error', text: page0(req).t('console.error.fixFields') } : undefined);
    const lockout = lockoutView(await lockouts.get(account.usernameKey), clock.now());
    const events = (await audit.query({ username: account.username, limit: 10 })).events;
    const sessions = await deps.services.tickets.sessionsOf(account.id, clock.now());
    res.status(status).type('html').send(accountDetail(page, account, lockout, events, sessions, errors, values));
  }

  const page0 = (req: Request) => deps.ui.translator(req);

  router.get('/admin/accounts/:id', async (req, res) => {
    await showAccount(req, res, await load(req));
  });

  /** Sensitive actions need a recent password: otherwise sign in again and come back to the account. */
  function reauthenticate(res: Response, account: Account): boolean {
    if (!deps.auth.needsReauthentication(userOf(res))) return false;
    res.redirect(303, deps.auth.loginUrl(`/admin/accounts/${account.id}?done=reauthenticated`, true));
    return true;
  }

  router.post('/admin/accounts/:id', formBody, async (req, res) => {
    const form = checkedForm(deps, req, res);
    if (!form) return;
    const account = await load(req);
    const values = Object.fromEntries(['displayName', 'email', 'description', 'role'].map((k) => [k, text(form, k)]));
    values.enabled = String(form.get('enabled') === 'true');
    const tr = page0(req);
    const parsed = accountUpdateSchema.safeParse({
      displayName: nullable(values.displayName),
      email: nullable(values.email),
      description: nullable(values.description),
      role: values.role,
      enabled: values.enabled === 'true',
    });
    if (!parsed.success) return showAccount(req, res, account, 422, schemaErrors(parsed.error, tr), values);
    if (parsed.data.role !== account.role && reauthenticate(res, account)) return;
    const changes: AccountChanges = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
    try {
      const actor = actorOf(req, res);
      const updated = await accountService.update(account.id, changes, actor, Number(form.get('version')));
      if (account.enabled && !updated.enabled) await deps.tokens.revokeAllFor(updated.id, 'account_disabled', actor);
      res.redirect(303, `/admin/accounts/${account.id}?done=updated`);
    } catch (error) {
      const errors = serviceErrors(deps, error, tr);
      if (!errors) throw error;
      await showAccount(req, res, await accountService.get(account.id), 409, errors, values);
    }
  });

  router.post('/admin/accounts/:id/password', formBody, async (req, res) => {
    const form = checkedForm(deps, req, res);
    if (!form) return;
    const account = await load(req);
    if (reauthenticate(res, account)) return;
    const parsed = passwordResetSchema.safeParse({ password: form.get('password') ?? '', mustChangePassword: form.get('mustChangePassword') === 'true' });
    const tr = page0(req);
    if (!parsed.success) return showAccount(req, res, account, 422, { password: [tr.t('console.accounts.passwordMissing')] });
    try {
      const actor = actorOf(req, res);
      await accountService.setPassword(account, parsed.data.password, { mustChange: parsed.data.mustChangePassword, actor });
      await deps.tokens.revokeAllFor(account.id, 'password_reset', actor);
      res.redirect(303, `/admin/accounts/${account.id}?done=password`);
    } catch (error) {
      const errors = serviceErrors(deps, error, tr);
      if (!errors) throw error;
      await showAccount(req, res, account, 422, errors);
    }
  });

  router.post('/admin/accounts/:id/unlock', formBody, async (req, res) => {
    if (!checkedForm(deps, req, res)) return;
    const account = await load(req);
    await accountService.unlock(account.username, actorOf(req, res));
    res.redirect(303, `/admin/accounts/${account.id}?done=unlocked`);
  });

  router.post('/admin/accounts/:id/sessions', formBody, async (req, res) => {
    const form = checkedForm(deps, req, res);
    if (!form) return;
    const account = await load(req);
    const session = (await deps.services.tickets.sessionsOf(account.id, clock.now())).find((s) => s.key === form.get('session'));
    if (session) {
      await deps.services.tickets.deleteSessionByKey(session.key);
      // Single logout as for any other end of a session.
      deps.services.servicePort.sessionEnded(session, null);
      const actor = actorOf(req, res);
      await audit.append({ event: 'session_revoked', outcome: 'success', username: account.username, actor: actor.name, clientIp: actor.clientIp }, clock.now());
    }
    res.redirect(303, `/admin/accounts/${account.id}?done=revoked`);
  });

  router.post('/admin/accounts/:id/delete', formBody, async (req, res) => {
    const form = checkedForm(deps, req, res);
    if (!form) return;
    const account = await load(req);
    const tr = page0(req);
    if (form.get('confirm') !== 'true') return showAccount(req, res, account, 422, { confirm: [tr.t('console.accounts.confirmMissing')] });
    if (reauthenticate(res, account)) return;
    try {
      await accountService.delete(account.id, actorOf(req, res));
      res.redirect(303, '/admin/accounts?done=deleted');
    } catch (error) {
      const errors = serviceErrors(deps, error, tr);
      if (!errors) throw error;
      await showAccount(req, res, account, 409, errors);
    }
  });

  function accountDetail(
    page: ConsolePage,
    account: Account,
    lockout: ReturnType<typeof lockoutView>,
    events: Awaited<ReturnType<typeof audit.query>>['events'],
    sessions: StoredTicket[],
    errors: FieldErrors,
    values?: Record<string, string>,
  ): string {
    const { t } = page.tr;
    const v = values ?? { displayName: account.displayName ?? '', email: account.email ?? '', description: account.description ?? '', role: account.role, enabled: String(account.enabled) };
    const internal = account.source === 'internal';
    return consoleLayout(
      page,
      t('console.accounts.accountTitle', { username: account.username }),
      html`${formErrors(errors).length ? html`<div class="notice error" role="alert"><p>${formErrors(errors).join(' ')}</p></div>` : null}
<dl class="facts">
<dt>${t('console.account.source')}</dt><dd>${account.source}</dd>
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
<p class="hint">${t('console.accounts.adminRules', { max: policy.get().administrators.maxAdministratorCount })}</p>
<button type="submit">${t('console.save')}</button>
</form></section>
${internal ? html`<section aria-labelledby="password-heading"><h2 id="password-heading">${t('console.accounts.setPassword')}</h2>
<form method="post" action="/admin/accounts/${account.id}/password" novalidate>
${csrfField(page)}
${field('password', t('password.new'), { type: 'password', autocomplete: 'new-password', hint: t('password.rules', { min: minLength() }), errors: errors.password })}
${checkbox('mustChangePassword', t('console.account.mustChange'), true)}
<button type="submit">${t('console.accounts.setPassword')}</button>
</form></section>` : null}
<section aria-labelledby="sessions-heading"><h2 id="sessions-heading">${t('console.accounts.sessions')}</h2>
${sessions.length === 0 ? html`<p>${t('console.none')}</p>` : html`<table><thead><tr><th scope="col">${t('console.accounts.signedIn')}</th><th scope="col">${t('console.accounts.expires')}</th><th scope="col">${t('console.accounts.backend')}</th><th scope="col"><span class="visually-hidden">${t('console.accounts.endSession')}</span></th></tr></thead><tbody>${sessions.map(
        (session) =>
          html`<tr><td>${time(session.createdAt)}</td><td>${time(Math.min(session.expiresAt, session.idleExpiresAt))}</td><td>${String(session.data.backend ?? '')}</td><td><form method="post" action="/admin/accounts/${account.id}/sessions">${csrfField(page)}<input type="hidden" name="session" value="${session.key}"><button type="submit">${t('console.accounts.endSession')}</button></form></td></tr>`,
      )}</tbody></table>`}</section>
<section aria-labelledby="audit-heading"><h2 id="audit-heading">${t('console.accounts.recentEvents')}</h2>
${events.length === 0 ? html`<p>${t('console.none')}</p>` : html`<table><thead><tr><th scope="col">${t('console.audit.time')}</th><th scope="col">${t('console.audit.event')}</th><th scope="col">${t('console.audit.outcome')}</th><th scope="col">${t('console.audit.actor')}</th></tr></thead><tbody>${events.map(
        (e) => html`<tr><td>${time(e.at)}</td><td>${e.event}</td><td>${t(`console.outcome.${e.outcome}`)}</td><td>${e.actor ?? ''}</td></tr>`,
      )}</tbody></table>`}
<p><a href="/admin/audit?username=${encodeURIComponent(account.username)}">${t('console.accounts.allEvents')}</a></p></section>
<section aria-labelledby="delete-heading"><h2 id="delete-heading">${t('console.accounts.delete')}</h2>
<form method="post" action="/admin/accounts/${account.id}/delete">
${csrfField(page)}
${checkbox('confirm', t('console.accounts.confirmDelete', { username: account.username }), false)}
${errors.confirm ? html`<ul class="field-errors">${errors.confirm.map((e) => html`<li>${e}</li>`)}</ul>` : null}
<button type="submit" class="danger">${t('console.accounts.delete')}</button>
</form></section>`,
    );
  }

  return router;
}
