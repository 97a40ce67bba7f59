import { type RequestHandler, Router } from 'express';
import { lockView } from '../policy/regulator';
import { accountCreateSchema, accountListQuery } from '../admin/schemas';
import { ConflictError } from '../shared/errors';
import { type ConsoleDeps, actorOf, checkedForm, consolePage, formBody, schemaErrors } from './context';
import { accountList, createForm } from './account-views';
import { loadAccount, sensitiveActions, serviceErrors, showAccount, text, withAccount } from './account-actions';
import { reauthRoutes } from './reauth';

const optional = (value: string) => (value === '' ? undefined : value);

/** GET /admin/accounts: the filtered, paged list. */
function listPage(deps: ConsoleDeps): RequestHandler {
  return async (req, res) => {
    const page = consolePage(deps, req, res, 'accounts');
    const raw = Object.fromEntries([...new URLSearchParams(req.originalUrl.split('?')[1] ?? '')].filter(([k, v]) => v !== '' && k !== 'done'));
    const parsed = accountListQuery.safeParse({ limit: '25', ...raw });
    const query = parsed.success ? parsed.data : { limit: 25 };
    const { items, total } = await deps.listAccounts(query, deps.clock.now());
    const now = deps.clock.now();
    res.type('html').send(accountList(page, raw, query, items, total, (state) => lockView(state, deps.policy.get().lockout, now)));
  };
}

/** POST /admin/accounts: creates an account through the account service (its rules, its audit). */
function createAccount(deps: ConsoleDeps): RequestHandler {
  const minLength = () => deps.policy.get().password.minLength;
  return async (req, res) => {
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
      const account = await deps.accountService.create(parsed.data, actorOf(req, res));
      res.redirect(303, `/admin/accounts/${account.id}?done=created`);
    } catch (error) {
      const errors = serviceErrors(deps, error, page.tr);
      if (!errors) throw error;
      res.status(error instanceof ConflictError ? 409 : 422).type('html').send(createForm(page, values, errors, minLength()));
    }
  };
}

/** POST /admin/accounts/:id/unlock: clears the account's failure counter. */
function unlockAccount(deps: ConsoleDeps): RequestHandler {
  return async (req, res) => {
    if (!checkedForm(deps, req, res)) return;
    const account = await loadAccount(deps, req);
    await deps.accountService.unlock(account.username, actorOf(req, res));
    res.redirect(303, `/admin/accounts/${account.id}?done=unlocked`);
  };
}

/** POST /admin/accounts/:id/sessions: ends one of the account's sign-on sessions. */
function endSession(deps: ConsoleDeps): RequestHandler {
  const { clock, tickets } = deps;
  return async (req, res) => {
    const form = checkedForm(deps, req, res);
    if (!form) return;
    const account = await loadAccount(deps, req);
    const session = (await tickets.sessionsOf(account.id, clock.now())).find((s) => s.key === form.get('session'));
    if (session) {
      await tickets.deleteSessionByKey(session.key);
      // Single logout as for any other end of a session.
      deps.servicePort.sessionEnded(session, null);
      const actor = actorOf(req, res);
      await deps.audit.append({ event: 'session_revoked', outcome: 'success', username: account.username, actor: actor.name, clientIp: actor.clientIp }, clock.now());
    }
    res.redirect(303, `/admin/accounts/${account.id}?done=revoked`);
  };
}

/** The account pages: one handler per route; sensitive actions go through re-authentication (reauth.ts). */
export function accountPages(deps: ConsoleDeps): Router {
  const router = Router();
  const actions = sensitiveActions(deps);
  router.get('/admin/accounts', listPage(deps));
  router.get('/admin/accounts/new', (req, res) => {
    res.type('html').send(createForm(consolePage(deps, req, res, 'accounts'), {}, {}, deps.policy.get().password.minLength));
  });
  router.post('/admin/accounts', formBody, createAccount(deps));
  router.get('/admin/accounts/:id', async (req, res) => showAccount(deps, req, res, await loadAccount(deps, req)));
  router.post('/admin/accounts/:id/unlock', formBody, unlockAccount(deps));
  router.post('/admin/accounts/:id/sessions', formBody, endSession(deps));
  router.post('/admin/accounts/:id', formBody, withAccount(deps, actions.update));
  router.post('/admin/accounts/:id/password', formBody, withAccount(deps, actions.password));
  router.post('/admin/accounts/:id/delete', formBody, withAccount(deps, actions.delete));
  router.use(reauthRoutes(deps, actions));
  return router;
}
