import { type Request, type Response, Router } from 'express';
import { listAccounts, lockoutView } from '../admin/account-views';
import { lockView } from '../policy/regulator';
import { accountCreateSchema, accountListQuery, accountUpdateSchema, passwordResetSchema } from '../admin/schemas';
import type { Params } from '../http/params';
import type { Account, AccountChanges } from '../accounts/account';
import { ConflictError, InputError, NotFoundError, PolicyError } from '../shared/errors';
import type { Translator } from '../web/i18n';
import { violationTexts } from '../web/views';
import { type ConsoleDeps, actorOf, checkedForm, consolePage, formBody, schemaErrors, userOf } from './context';
import { accountDetail, accountList, createForm } from './account-views';
import type { FieldErrors } from './views';
import { type SensitiveAction, reauthentication } from './reauth';


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

export function accountPages(deps: ConsoleDeps): Router {
  const router = Router();
  const { accountService, accounts, regulator, clock, audit, policy } = deps.services;
  const minLength = () => policy.get().password.minLength;

  router.get('/admin/accounts', async (req, res) => {
    const page = consolePage(deps, req, res, 'accounts');
    const raw = Object.fromEntries([...new URLSearchParams(req.originalUrl.split('?')[1] ?? '')].filter(([k, v]) => v !== '' && k !== 'done'));
    const parsed = accountListQuery.safeParse({ limit: '25', ...raw });
    const query = parsed.success ? parsed.data : { limit: 25 };
    const { items, total } = await listAccounts(accounts, query, clock.now());
    const now = clock.now();
    res.type('html').send(accountList(page, raw, query, items, total, (state) => lockView(state, policy.get().lockout, now)));
  });

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
    const page = consolePage(deps, req, res, 'accounts', Object.keys(errors).length ? { kind: 'error', text: translatorOf(req).t('console.error.fixFields') } : undefined);
    const lockout = lockoutView(await regulator.view(account.usernameKey));
    const events = (await audit.query({ username: account.username, limit: 10 })).events;
    const sessions = await deps.services.tickets.sessionsOf(account.id, clock.now());
    const limits = { maxAdministrators: policy.get().administrators.maxAdministratorCount, minLength: minLength() };
    res.status(status).type('html').send(accountDetail(page, account, lockout, events, sessions, errors, values, limits));
  }

  const translatorOf = (req: Request) => deps.ui.translator(req);

  router.get('/admin/accounts/:id', async (req, res) => {
    await showAccount(req, res, await load(req));
  });

  const reauth = reauthentication(deps);

  /** Sensitive actions need recent credentials: otherwise ask for them, keeping the action's form. */
  async function reauthenticate(req: Request, res: Response, action: string, account: Account, form: Params): Promise<boolean> {
    if (!deps.auth.needsReauthentication(userOf(res))) return false;
    const fields = Object.fromEntries(form.names().filter((name) => name !== 'csrf').map((name) => [name, form.get(name) ?? '']));
    await reauth.ask(req, res, { action, id: account.id, form: fields });
    return true;
  }

  /** A route that checks the form's CSRF token and loads the account before running `action`. */
  function withAccount(action: SensitiveAction) {
    return async (req: Request, res: Response) => {
      const form = checkedForm(deps, req, res);
      if (!form) return;
      await action(req, res, await load(req), form);
    };
  }

  const update: SensitiveAction = async (req, res, account, form) => {
    const values = Object.fromEntries(['displayName', 'email', 'description', 'role'].map((k) => [k, text(form, k)]));
    values.enabled = String(form.get('enabled') === 'true');
    const tr = translatorOf(req);
    const parsed = accountUpdateSchema.safeParse({
      displayName: nullable(values.displayName),
      email: nullable(values.email),
      description: nullable(values.description),
      role: values.role,
      enabled: values.enabled === 'true',
    });
    if (!parsed.success) return showAccount(req, res, account, 422, schemaErrors(parsed.error, tr), values);
    if (parsed.data.role !== account.role && (await reauthenticate(req, res, 'update', account, form))) return;
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
  };

  const setPassword: SensitiveAction = async (req, res, account, form) => {
    if (await reauthenticate(req, res, 'password', account, form)) return;
    const parsed = passwordResetSchema.safeParse({ password: form.get('password') ?? '', mustChangePassword: form.get('mustChangePassword') === 'true' });
    const tr = translatorOf(req);
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
  };

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

  const remove: SensitiveAction = async (req, res, account, form) => {
    const tr = translatorOf(req);
    if (form.get('confirm') !== 'true') return showAccount(req, res, account, 422, { confirm: [tr.t('console.accounts.confirmMissing')] });
    if (await reauthenticate(req, res, 'delete', account, form)) return;
    try {
      await accountService.delete(account.id, actorOf(req, res));
      res.redirect(303, '/admin/accounts?done=deleted');
    } catch (error) {
      const errors = serviceErrors(deps, error, tr);
      if (!errors) throw error;
      await showAccount(req, res, account, 409, errors);
    }
  };

  router.post('/admin/accounts/:id', formBody, withAccount(update));
  router.post('/admin/accounts/:id/password', formBody, withAccount(setPassword));
  router.post('/admin/accounts/:id/delete', formBody, withAccount(remove));
  router.use(reauth.routes({ update, password: setPassword, delete: remove }));
  return router;
}
