/**
 * CAS `/login` and `/logout` (spec §2.1–2.3) as named steps, in the order a
 * login runs them (Apereo's webflow actions, node-oidc-provider's step table):
 *
 *   parse          request.ts   service, renew, gateway, method, authn_method
 *   service check  flow.ts      checkService: registered services only, their MFA demand
 *   session (SSO)  flow.ts      ssoSession → fromSession (step-up) | withoutSession (gateway, SPNEGO, form)
 *   credentials    flow.ts      passwordLogin (CSRF execution, fields, passport) | negotiateLogin
 *   policy         flow.ts      password change, afterFirstFactor (second factor), noticeDue
 *   ticket         flow.ts      establish (TGT + TGC cookie), proceed (service ticket)
 *   redirect       flow.ts      sendToService (303 or a self-posting form)
 *   logout         logout.ts    end the session, single logout, back to a registered service
 *
 * This folder decides; src/web/ shows. It may import the CAS service port,
 * tickets/ sessions, authn/ results, http/ parsing and, from src/web/, the
 * step classes and page types only (LoginPages is implemented there). It
 * imports no knex, no HTML views and never `Services`.
 */
import express, { type RequestHandler, Router } from 'express';
import { formParams, queryParams } from '../../http/params';
import { noStore } from '../../http/no-store';
import type { Clock } from '../../shared/clock';
import type { AuditLog } from '../../storage/audit-log';
import type { PasskeyLogin, WebAuthnStep } from '../../web/webauthn-step';
import { LoginFlow, type LoginFlowDeps } from './flow';
import { logoutRoute } from './logout';
import type { LoginPages } from './pages';
import { type ServiceRequest, postedServiceParams, readServiceRequest } from './request';

/** The login pages plus their own routes (password change, notice) that resume the flow. */
export interface RoutedLoginPages extends LoginPages {
  routes(flow: LoginFlow, formBody: RequestHandler): Router;
}

export interface LoginRouteDeps extends LoginFlowDeps {
  clock: Clock;
  audit: AuditLog;
  pages: RoutedLoginPages;
  /** Security keys and passkeys (src/web/webauthn-step.ts). */
  webauthn: WebAuthnStep;
}

/** `/cas/login`, `/cas/logout` and the steps' own form posts. */
export function casLoginRoutes(deps: LoginRouteDeps): Router {
  const router = Router();
  const flow = new LoginFlow(deps);
  const formBody = express.raw({ type: () => true, limit: '64kb' });
  const finish = { establish: flow.establish.bind(flow), proceed: flow.proceed.bind(flow), complete: flow.complete.bind(flow) };

  router.use('/cas', noStore);
  router.get('/cas/login', async (req, res) => {
    const request = readServiceRequest(queryParams(req));
    if (!(await flow.checkService(req, res, request))) return;
    const session = await flow.ssoSession(req, request);
    if (session) await flow.fromSession(req, res, session, request);
    else await flow.withoutSession(req, res, request);
  });
  router.post('/cas/login', formBody, async (req, res) => {
    const form = formParams(req);
    const request = readServiceRequest(postedServiceParams(queryParams(req), form));
    if (!(await flow.checkService(req, res, request))) return;
    await flow.passwordLogin(req, res, form, request);
  });
  router.use(deps.pages.routes(flow, formBody));
  router.use(deps.secondFactor.routes(formBody, finish));
  router.use(deps.webauthn.routes(formBody, finish, passkeyLogin(flow, deps.pages)));
  router.get('/cas/logout', logoutRoute(deps));
  return router;
}

/** The passkey form passes the password form's checks (registered service, CSRF execution). */
function passkeyLogin(flow: LoginFlow, pages: LoginPages): PasskeyLogin<ServiceRequest> {
  return {
    async request(req, res) {
      const form = formParams(req);
      const request = readServiceRequest(postedServiceParams(queryParams(req), form));
      if (!(await flow.checkService(req, res, request))) return null;
      if (pages.validExecution(req, form.get('execution'))) return request;
      pages.form(req, res, 403, { service: request, notice: 'login.formExpired' });
      return null;
    },
    refuse: (req, res, status, message, request) => pages.form(req, res, status, { service: request, notice: message }),
  };
}
