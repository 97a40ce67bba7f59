import express, { type Request, type Response } from 'express';
import type { AccountListFilter, listAccounts } from '../admin/account-views';
import type { ApiTokenService } from '../admin/api-tokens';
import type { serviceAudit } from '../admin/handlers/services';
import type { Actor, AccountService } from '../accounts/account-service';
import type { LoginService } from '../authn/login-service';
import type { ServiceRegistry } from '../cas/service-registry';
import type { LivePolicySource } from '../config/live-policy';
import { type Params, formParams } from '../http/params';
import type { MfaService } from '../mfa/mfa-service';
import type { LoginRegulator } from '../policy/regulator';
import type { Clock } from '../shared/clock';
import type { AuditLog } from '../storage/audit-log';
import type { ConsoleStats } from '../storage/console-stats';
import type { StoredTicket, TicketKind } from '../tickets/registry';
import type { ServicePort } from '../cas/login/service-port';
import { type Notice, errorPage } from '../web/views';
import type { MessageKey } from '../web/i18n';
import type { WebUi } from '../web/ui';
import type { ConsoleAuth, ConsoleUser } from './session';
import type { ConsolePage, FieldErrors, Section } from './views';
import type { z } from 'zod';
import type { Translator } from '../web/i18n';

/**
 * What the console's pages use: the same services as the REST API, nothing
 * of their own but HTML. Built in the composition root (src/app.ts).
 */
export interface ConsoleDeps {
  clock: Clock;
  policy: Pick<LivePolicySource, 'get' | 'sources'>;
  accountService: Pick<AccountService, 'get' | 'create' | 'update' | 'setPassword' | 'unlock' | 'delete'>;
  /** The API's account list (filters, lock state of each name). */
  listAccounts: (filter: AccountListFilter, now: number) => ReturnType<typeof listAccounts>;
  /** Legacy password hashes still waiting for a sign-in (dashboard). */
  accounts: { countLegacyHashes(): Promise<number> };
  /** The lockout regulator's view of an account's counter. */
  regulator: Pick<LoginRegulator, 'view'>;
  audit: Pick<AuditLog, 'query' | 'append'>;
  /** Single sign-on sessions: listed and ended per account, counted on the dashboard. */
  tickets: {
    sessionsOf(accountId: number, now: number): Promise<StoredTicket[]>;
    deleteSessionByKey(key: string): Promise<number>;
    countActive(kind: TicketKind, now: number): Promise<number>;
  };
  /** An ended session is reported to its services (single logout). */
  servicePort: Pick<ServicePort, 'sessionEnded'>;
  serviceRegistry: Pick<ServiceRegistry, 'list' | 'get' | 'create' | 'update' | 'delete' | 'match'>;
  /** Audits a change to the registry as the API does (src/admin/handlers/services.ts). */
  recordServiceEvent: ReturnType<typeof serviceAudit>;
  /** Re-authentication checks the administrator's password and second factor through the regulator. */
  loginService: Pick<LoginService, 'confirmPassword' | 'login'>;
  mfa: Pick<MfaService, 'enrolledKinds' | 'verify'>;
  /** The API's token service: disabling an account or resetting its password revokes its tokens there too. */
  tokens: Pick<ApiTokenService, 'revokeAllFor'>;
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
