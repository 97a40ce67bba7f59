import { randomUUID } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import type { Services } from './services';
import { errorHandler } from './http/error-handler';
import { securityHeaders } from './http/security-headers';
import { SecondFactorStep } from './web/second-factor';
import { WebAuthnStep, browserLibraryRoute } from './web/webauthn-step';
import { HtmlLoginPages, loginAssetRoutes } from './web/login-routes';
import { casLoginRoutes } from './cas/login/routes';
import { casErrorRenderer, casValidationRoutes } from './cas/routes';
import { restTicketRoutes } from './cas/rest-tickets';
import { API_PREFIX, adminRouter, apiGuard } from './admin/routes';
import { wwwAuthenticate } from './admin/guard';
import type { AdminDeps } from './admin/handlers/context';
import { adminDeps } from './admin-wiring';
import { HttpError } from './shared/errors';
import { ConsoleAuth } from './console/session';
import { consoleRoutes } from './console/routes';
import type { ConsoleDeps } from './console/context';
import { listAccounts } from './admin/account-views';
import { serviceAudit } from './admin/handlers/services';
import { ConsoleStats } from './storage/console-stats';
import { WebUi } from './web/ui';
import { errorPage } from './web/views';
import { requestLogger } from './ops/request-log';
import { type HealthDeps, opsRoutes } from './ops/health';
import { KnexHealthStore } from './storage/heartbeat';

/** /metrics on the main HTTPS port needs an administrator's API token (Bearer), as /api/v1 does. */
function metricsGuard(admin: AdminDeps): (req: Request, res: Response) => Promise<void> {
  const guard = apiGuard(admin);
  return async (req, res) => {
    try {
      await guard.check(req, 'admin');
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) res.set('WWW-Authenticate', wwwAuthenticate(error));
      throw error;
    }
  };
}

/** What readiness and metrics use (the main port's routes here, the ops port's in src/server.ts). */
export function healthDeps(services: Services): HealthDeps {
  return { store: new KnexHealthStore(services.db.knex), instanceId: services.instanceId, backends: services.backends, metrics: services.metrics };
}

/** What the admin console uses: the services the REST API calls, one by one. */
function consoleDeps(services: Services, web: Pick<ConsoleDeps, 'tokens' | 'ui' | 'auth'>): ConsoleDeps {
  return {
    ...web,
    clock: services.clock,
    policy: services.policy,
    accountService: services.accountService,
    listAccounts: (filter, now) => listAccounts(services.accounts, filter, now, services.policy.get().lockout),
    accounts: services.accounts,
    regulator: services.regulator,
    audit: services.audit,
    tickets: services.tickets,
    servicePort: services.servicePort,
    serviceRegistry: services.serviceRegistry,
    recordServiceEvent: serviceAudit(services),
    loginService: services.loginService,
    mfa: services.mfa,
    stats: new ConsoleStats(services.db.knex),
  };
}

/** Request ids, request logs, and health and metrics when they share the main port. */
function edgeMiddleware(app: Express, services: Services, admin: AdminDeps): void {
  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    res.locals.requestId = incoming && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.set('X-Request-Id', res.locals.requestId as string);
    next();
  });
  app.use(requestLogger(services.logger, services.metrics));
  // Without a separate ops port, health and metrics share the main port (summary answers only; metrics for administrators).
  if (services.config.ops.port === undefined) {
    app.use(opsRoutes(healthDeps(services), { detailed: false, metrics: services.config.ops.metrics, authorizeMetrics: metricsGuard(admin) }));
  }
  app.use(
    securityHeaders({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'"],
          // Login forms redirect to registered services after POST; browsers apply form-action to
          // that redirect, so it cannot be restricted to 'self' without breaking CAS.
          formAction: null,
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
        },
      },
      strictTransportSecurity: { maxAge: 31536000, includeSubDomains: true },
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );
}

/** The login's page steps after the password: the second factor and security keys. */
function factorSteps(services: Services, ui: WebUi): { secondFactor: SecondFactorStep; webauthn: WebAuthnStep } {
  const loginPage = (req: Request) => ui.page(req, '/cas/login');
  const findSession = (tgtId: string | undefined) => services.sessions.find(tgtId);
  const secondFactor = new SecondFactorStep({
    mfa: services.mfa,
    signer: services.signer,
    clock: services.clock,
    accountService: services.accountService,
    findSession,
    addSessionMethod: (session, method) => services.sessions.addMethod(session, method),
    page: loginPage,
    hasKeys: (accountId) => services.webauthn.hasKeys(accountId),
  });
  const webauthn = new WebAuthnStep({
    webauthn: services.webauthn,
    secondFactor,
    clock: services.clock,
    signer: services.signer,
    findSession,
    findAccount: (id) => services.accounts.findById(id),
    listFactors: (id) => services.mfa.list(id),
    page: loginPage,
  });
  return { secondFactor, webauthn };
}

/** The CAS routes: validation first (the hottest path of single sign-on should not walk the page routers), then pages, login, REST. */
function casRoutes(app: Express, services: Services, ui: WebUi, consoleAuth: ConsoleAuth): void {
  const { config, clock, audit, sessions, signer, accountService, notices, negotiate, authenticate, publicUrl } = services;
  app.use(casValidationRoutes({ cas: services.cas, clock, config, publicUrl, metrics: services.metrics }));
  app.use(ui.routes(), browserLibraryRoute(), loginAssetRoutes());
  const { secondFactor, webauthn } = factorSteps(services, ui);
  const pages = new HtmlLoginPages({ config, clock, signer, ui, accountService, notices, audit, secondFactor });
  // The console signs in through the login like an application; its callback is allowed without registration.
  const servicePort = consoleAuth.servicePort(services.servicePort);
  app.use(casLoginRoutes({ config, clock, audit, authenticate, accountService, sessions, servicePort, notices, pages, negotiate, secondFactor, webauthn }));
  app.use(restTicketRoutes({ config, clock, authenticate, sessions, servicePort: services.servicePort, audit, mfa: services.mfa, publicUrl }));
}

/** Unknown paths: problem+json under /api, a page elsewhere. */
function notFound(ui: WebUi): (req: Request, res: Response) => void {
  return (req, res) => {
    if (req.path.startsWith('/api/')) {
      res.status(404).type('application/problem+json').send(JSON.stringify({ type: 'https://portcullis.dev/problems/not-found', title: 'Not found', status: 404, detail: `No route for ${req.method} ${req.path}.` }));
      return;
    }
    const page = ui.page(req);
    res.status(404).type('html').send(errorPage(page, page.tr.t('error.notFoundTitle'), page.tr.t('error.notFound')));
  };
}

/**
 * The express application without listen(), so tests drive it with supertest
 * and the server wraps it in HTTPS. Routers are added in one list, each with
 * the narrow deps it declares; errors are rendered in one place at the end.
 */
export function createApp(services: Services): Express {
  const app = express();
  app.disable('x-powered-by');
  // Responses are per user and never cached (no-store); hashing every body for an ETag is wasted work.
  // The admin API sets its own ETags (account versions).
  app.set('etag', false);
  app.set('trust proxy', services.config.server.trustProxy);
  // Query strings are parsed strictly by http/params.ts where they are used.
  app.set('query parser', false);
  const admin = adminDeps(services);
  edgeMiddleware(app, services, admin);
  const ui = new WebUi(services.config.ui, services.loaded.configDir);
  const { config, signer, clock, sessions, accountService } = services;
  const consoleAuth = new ConsoleAuth({ publicUrl: config.server.publicUrl, signer, clock, sessions, accountService });
  casRoutes(app, services, ui, consoleAuth);
  app.use(API_PREFIX, adminRouter(admin));
  app.use(consoleRoutes(consoleDeps(services, { tokens: admin.tokens, ui, auth: consoleAuth })));
  app.use(notFound(ui));
  app.use(errorHandler(services.logger, [casErrorRenderer, ui.errorRenderer()]));
  return app;
}
