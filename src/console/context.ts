import express, { type Request, type Response } from 'express';
import type { ApiTokenService } from '../admin/api-tokens';
import type { Actor } from '../accounts/account-service';
import { type Params, formParams } from '../http/params';
import type { Services } from '../services';
import type { ConsoleStats } from '../storage/console-stats';
import { type Notice, errorPage } from '../web/views';
import type { MessageKey } from '../web/i18n';
import type { WebUi } from '../web/ui';
import type { ConsoleAuth, ConsoleUser } from './session';
import type { ConsolePage, FieldErrors, Section } from './views';
import type { z } from 'zod';
import type { Translator } from '../web/i18n';

/** What the console's pages use: the same services as the REST API, nothing of their own but HTML. */
export interface ConsoleDeps {
  services: Services;
  /** The API's token service: disabling an account or resetting its password revokes its tokens there too. */
  tokens: ApiTokenService;
  ui: WebUi;
  auth: ConsoleAuth;
  stats: ConsoleStats;
}

export const formBody = express.raw({ type: () => true, limit: '64kb' });

export function userOf(res: Response): ConsoleUser {
  return res.locals.consoleUser as ConsoleUser;
}

export function actorOf(req: Request, res: Response): Actor {
  return { name: userOf(res).account.username, clientIp: req.ip ?? null };
}

/** The success messages a redirect may name (`?done=…`): a fixed list, so the query cannot inject text. */
const DONE: Record<string, MessageKey> = {
  created: 'console.done.created',
  updated: 'console.done.updated',
  password: 'console.done.password',
  unlocked: 'console.done.unlocked',
  deleted: 'console.done.deleted',
  revoked: 'console.done.revoked',
  registered: 'console.done.registered',
  removed: 'console.done.removed',
};

export function consolePage(deps: ConsoleDeps, req: Request, res: Response, section: Section, pageNotice?: Notice): ConsolePage {
  const user = userOf(res);
  const base = deps.ui.page(req);
  const done = new URLSearchParams(req.originalUrl.split('?')[1] ?? '').get('done');
  const shown = pageNotice ?? (done && DONE[done] ? { kind: 'success' as const, text: base.tr.t(DONE[done]) } : undefined);
  return { ...base, section, username: user.account.username, csrf: user.csrf, notice: shown };
}

/** The form of a console POST after its CSRF token is checked (a bad token is a 403 page, nothing changes). */
export function checkedForm(deps: ConsoleDeps, req: Request, res: Response): Params | null {
  const form = formParams(req);
  if (deps.auth.validCsrf(userOf(res), form.get('csrf'))) return form;
  const page = deps.ui.page(req);
  res.status(403).type('html').send(errorPage(page, page.tr.t('console.csrfTitle'), page.tr.t('console.csrf')));
  return null;
}

/** zod's issues by form field (the API validates with the same schemas). */
export function schemaErrors(error: z.ZodError, tr: Translator): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const name = String(issue.path[0] ?? 'form');
    (errors[name] ??= []).push(tr.t('console.field.invalid', { detail: issue.message }));
  }
  return errors;
}
