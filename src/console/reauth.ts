import { type Request, type Response, Router } from 'express';
import { requestContext } from '../http/request-context';
import { Params } from '../http/params';
import type { Account } from '../accounts/account';
import { html } from '../web/html';
import type { MessageKey } from '../web/i18n';
import { errorPage } from '../web/views';
import { type ConsoleDeps, checkedForm, consolePage, formBody, userOf } from './context';
import { CONSOLE_COOKIE, CONSOLE_COOKIE_ATTRIBUTES, type PendingAction } from './session';
import { consoleLayout, csrfField, field } from './views';

/** A sensitive action, run once its form is checked and credentials are recent. */
export type SensitiveAction = (req: Request, res: Response, account: Account, form: Params) => Promise<void>;

const CHANNEL = 'console';

/*
 * Re-authentication for sensitive actions (issue 13): the administrator's
 * password, and a current code (TOTP or recovery code) when the account has a
 * second factor — both through the regulator, so wrong entries count toward
 * the lockout as at sign-in. The action's form waits in a token sealed for
 * the session (src/console/session.ts: the page can neither read nor change
 * it), and runs as soon as the credentials are right: nothing is entered
 * twice. Security keys are not offered here: they need a script.
 */

/** The page asking for credentials, carrying the pending action. */
export async function askReauthentication(deps: ConsoleDeps, req: Request, res: Response, pending: PendingAction, status = 200, error?: MessageKey): Promise<void> {
  const user = userOf(res);
  const page = consolePage(deps, req, res, 'accounts', error ? { kind: 'error', text: deps.ui.translator(req).t(error) } : undefined);
  const { t } = page.tr;
  const withCode = (await deps.mfa.enrolledKinds(user.account.id)).length > 0;
  res.status(status).type('html').send(
    consoleLayout(
      page,
      t('console.reauth.title'),
      html`<p>${t(withCode ? 'console.reauth.introCode' : 'console.reauth.intro')}</p>
<form method="post" action="/admin/reauthenticate" class="stack" novalidate>
${csrfField(page)}<input type="hidden" name="pending" value="${deps.auth.pendingToken(user, pending)}">
${field('password', t('console.reauth.password'), { type: 'password', autocomplete: 'current-password', required: true })}
${withCode ? field('code', t('console.reauth.code'), { autocomplete: 'one-time-code', required: true, hint: t('console.reauth.codeHint') }) : null}
<button type="submit">${t('console.reauth.submit')}</button>
</form>`,
    ),
  );
}

/** The credentials' verdict: null when right, else the message to show. */
async function checkCredentials(deps: ConsoleDeps, req: Request, account: Account, form: Params): Promise<MessageKey | null> {
  const { loginService, mfa } = deps;
  const context = requestContext(req, CHANNEL);
  const password = form.get('password') ?? '';
  const first =
    account.passwordHash !== null
      ? await loginService.confirmPassword(account, password, context)
      : await loginService.login({ username: account.username, password }, context).then((r) => (r.status === 'success' && r.account.id === account.id ? 'confirmed' : r));
  if (first !== 'confirmed') return first.status === 'locked' ? 'console.reauth.locked' : 'console.reauth.wrong';
  if ((await mfa.enrolledKinds(account.id)).length === 0) return null;
  const code = form.get('code')?.trim() ?? '';
  if (code === '') return 'console.reauth.codeMissing';
  const verdict = await mfa.verify(account, code, context);
  return verdict.status === 'verified' ? null : verdict.status === 'locked' ? 'console.reauth.locked' : 'console.reauth.wrong';
}

/**
 * The account a pending action applies to, if it is still at the version the
 * action was asked for. Every action changes the account (or deletes it), so
 * a pending token that has been used once is refused here.
 */
async function pendingTarget(deps: ConsoleDeps, pending: PendingAction): Promise<Account | null> {
  const account = await deps.accountService.get(pending.id).catch(() => null);
  return account && account.version === pending.version ? account : null;
}

/** Route to finish a re-authentication and run the pending action (by its name in `actions`). */
export function reauthRoutes(deps: ConsoleDeps, actions: Record<string, SensitiveAction>): Router {
  const router = Router();
  router.post('/admin/reauthenticate', formBody, async (req, res) => {
    const form = checkedForm(deps, req, res);
    if (!form) return;
    const user = userOf(res);
    const pending = deps.auth.pendingAction(user, form.get('pending'));
    const action = pending && Object.hasOwn(actions, pending.action) ? actions[pending.action] : undefined;
    const account = pending && action ? await pendingTarget(deps, pending) : null;
    if (!pending || !action || !account) {
      const page = deps.ui.page(req);
      res.status(400).type('html').send(errorPage(page, page.tr.t('console.reauth.title'), page.tr.t('console.reauth.expired')));
      return;
    }
    const refused = await checkCredentials(deps, req, user.account, form);
    if (refused) return askReauthentication(deps, req, res, pending, 422, refused);
    res.append('Set-Cookie', `${CONSOLE_COOKIE}=${deps.auth.reauthenticated(user)}; ${CONSOLE_COOKIE_ATTRIBUTES}`);
    await action(req, res, account, Params.of(new Map(Object.entries(pending.form))));
  });
  return router;
}
