import type { Request, Response } from 'express';
import type { LoginRefusal } from '../../authn/refusals';
import type { LoginResult, PasswordChangeReason } from '../../authn/login-service';
import type { MessageKey } from '../../web/i18n';
import type { Notice } from '../../web/views';
import type { ServiceRequest } from './request';

export type LoginSuccess = Extract<LoginResult, { status: 'success' }>;

/** What the login form shows with it: nothing, a catalogue message, or a prepared notice. */
export interface FormModel {
  service?: ServiceRequest;
  username?: string;
  notice?: Notice | MessageKey;
}

/**
 * The pages the login flow shows (src/web/login-routes.ts renders them in
 * HTML, in the browser's language). The flow decides which page and when;
 * it never builds markup, signs a page's form token or picks its words.
 */
export interface LoginPages {
  /** The login form, with a fresh CSRF `execution` bound to the browser. */
  form(req: Request, res: Response, status: number, model: FormModel): void;
  /** The form again after a refused login, with the refusal's status and message. */
  refused(req: Request, res: Response, refusal: LoginRefusal, model: FormModel): void;
  /** Whether a posted `execution` is this browser's and still fresh. */
  validExecution(req: Request, execution: string | undefined): boolean;
  /** An unregistered or malformed service: an error page, never a redirect. */
  serviceRefused(req: Request, res: Response, code: 'bad_url' | 'not_registered'): void;
  /** "You are signed in", with a link to the console for administrators. */
  loggedIn(req: Request, res: Response, principal: string, consoleUrl: string | undefined): void;
  loggedOut(req: Request, res: Response): void;
  /** `method=POST`: a self-submitting form that carries the ticket to the service. */
  postRedirect(req: Request, res: Response, service: string, ticket: string | null): void;
  /** The new-password form; POST /cas/password resumes the login from its token. */
  passwordChange(req: Request, res: Response, result: LoginSuccess, reason: PasswordChangeReason, request: ServiceRequest): void;
  /** The notice to accept; POST /cas/notice resumes from `carried` (signed into the page). */
  notice(req: Request, res: Response, carried: Record<string, unknown>): void;
}
