import type { Request, Response } from 'express';
import { lockoutView } from '../admin/account-views';
import { accountUpdateSchema, passwordResetSchema } from '../admin/schemas';
import type { Params } from '../http/params';
import type { Account, AccountChanges } from '../accounts/account';
import { ConflictError, InputError, NotFoundError, PolicyError } from '../shared/errors';
import type { Translator } from '../web/i18n';
import { violationTexts } from '../web/views';
import { type ConsoleDeps, actorOf, checkedForm, consolePage, schemaErrors, userOf } from './context';
import { accountDetail } from './account-views';
import { type SensitiveAction, askReauthentication } from './reauth';
import type { FieldErrors } from './views';

/** The account pages' steps that more than one route uses (src/console/accounts.ts has the routes). */

/** A refusal from the account service as field errors in the page's language. */
export function serviceErrors(deps: ConsoleDeps, error: unknown, tr: Translator): FieldErrors | null {
  const { t } = tr;
  if (error instanceof PolicyError) return { password: error.violations.length ? violationTexts(tr, error.violations) : [error.message] };
  if (error instanceof ConflictError) {
    const max = deps.policy.get().administrators.maxAdministratorCount;
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

export const text = (form: Params, name: string) => form.get(name)?.trim() ?? '';
const nullable = (value: string) => (value === '' ? null : value);

/** The account named by the path's `:id` (a 404 page otherwise). */
export async function loadAccount(deps: ConsoleDeps, req: Request): Promise<Account> {
  const id = Number(req.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError('No such account.');
  return deps.accountService.get(id);
}

/** The account's page, with field errors (and the values entered) when a form was refused. */
export async function showAccount(deps: ConsoleDeps, req: Request, res: Response, account: Account, status = 200, errors: FieldErrors = {}, values?: Record<string, string>): Promise<void> {
  const { policy, clock } = deps;
  const page = consolePage(deps, req, res, 'accounts', Object.keys(errors).length ? { kind: 'error', text: deps.ui.translator(req).t('console.error.fixFields') } : undefined);
  const lockout = lockoutView(await deps.regulator.view(account.usernameKey));
  const events = (await deps.audit.query({ username: account.username, limit: 10 })).events;
  const sessions = await deps.tickets.sessionsOf(account.id, clock.now());
  const limits = { maxAdministrators: policy.get().administrators.maxAdministratorCount, minLength: policy.get().password.minLength };
  res.status(status).type('html').send(accountDetail(page, account, lockout, events, sessions, errors, values, limits));
}

/** Sensitive actions need recent credentials: otherwise ask for them (true), keeping the action's form. */
async function reauthenticate(deps: ConsoleDeps, req: Request, res: Response, action: string, account: Account, form: Params): Promise<boolean> {
  if (!deps.auth.needsReauthentication(userOf(res))) return false;
  const fields = Object.fromEntries(form.names().filter((name) => name !== 'csrf').map((name) => [name, form.get(name) ?? '']));
  await askReauthentication(deps, req, res, { action, id: account.id, version: account.version, form: fields });
  return true;
}

/** A route that checks the form's CSRF token and loads the account before running `action`. */
export function withAccount(deps: ConsoleDeps, action: SensitiveAction) {
  return async (req: Request, res: Response) => {
    const form = checkedForm(deps, req, res);
    if (!form) return;
    await action(req, res, await loadAccount(deps, req), form);
  };
}

/** Saves the edit form; a change of role is sensitive. */
function updateAccount(deps: ConsoleDeps): SensitiveAction {
  return async (req, res, account, form) => {
    const values = Object.fromEntries(['displayName', 'email', 'description', 'role'].map((k) => [k, text(form, k)]));
    values.enabled = String(form.get('enabled') === 'true');
    const tr = deps.ui.translator(req);
    const parsed = accountUpdateSchema.safeParse({
      displayName: nullable(values.displayName),
      email: nullable(values.email),
      description: nullable(values.description),
      role: values.role,
      enabled: values.enabled === 'true',
    });
    if (!parsed.success) return showAccount(deps, req, res, account, 422, schemaErrors(parsed.error, tr), values);
    if (parsed.data.role !== account.role && (await reauthenticate(deps, req, res, 'update', account, form))) return;
    const changes: AccountChanges = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
    try {
      const actor = actorOf(req, res);
      const updated = await deps.accountService.update(account.id, changes, actor, Number(form.get('version')));
      if (account.enabled && !updated.enabled) await deps.tokens.revokeAllFor(updated.id, 'account_disabled', actor);
      res.redirect(303, `/admin/accounts/${account.id}?done=updated`);
    } catch (error) {
      const errors = serviceErrors(deps, error, tr);
      if (!errors) throw error;
      await showAccount(deps, req, res, await deps.accountService.get(account.id), 409, errors, values);
    }
  };
}

/** Sets a new password (internal accounts), revoking the account's API tokens. */
function setPassword(deps: ConsoleDeps): SensitiveAction {
  return async (req, res, account, form) => {
    if (await reauthenticate(deps, req, res, 'password', account, form)) return;
    const parsed = passwordResetSchema.safeParse({ password: form.get('password') ?? '', mustChangePassword: form.get('mustChangePassword') === 'true' });
    const tr = deps.ui.translator(req);
    if (!parsed.success) return showAccount(deps, req, res, account, 422, { password: [tr.t('console.accounts.passwordMissing')] });
    try {
      const actor = actorOf(req, res);
      await deps.accountService.setPassword(account, parsed.data.password, { mustChange: parsed.data.mustChangePassword, actor });
      await deps.tokens.revokeAllFor(account.id, 'password_reset', actor);
      res.redirect(303, `/admin/accounts/${account.id}?done=password`);
    } catch (error) {
      const errors = serviceErrors(deps, error, tr);
      if (!errors) throw error;
      await showAccount(deps, req, res, account, 422, errors);
    }
  };
}

/** Deletes the account once the confirmation box is ticked. */
function removeAccount(deps: ConsoleDeps): SensitiveAction {
  return async (req, res, account, form) => {
    const tr = deps.ui.translator(req);
    if (form.get('confirm') !== 'true') return showAccount(deps, req, res, account, 422, { confirm: [tr.t('console.accounts.confirmMissing')] });
    if (await reauthenticate(deps, req, res, 'delete', account, form)) return;
    try {
      await deps.accountService.delete(account.id, actorOf(req, res));
      res.redirect(303, '/admin/accounts?done=deleted');
    } catch (error) {
      const errors = serviceErrors(deps, error, tr);
      if (!errors) throw error;
      await showAccount(deps, req, res, account, 409, errors);
    }
  };
}

/** The sensitive account actions by the name a pending re-authentication carries. */
export function sensitiveActions(deps: ConsoleDeps): { update: SensitiveAction; password: SensitiveAction; delete: SensitiveAction } {
  return { update: updateAccount(deps), password: setPassword(deps), delete: removeAccount(deps) };
}
