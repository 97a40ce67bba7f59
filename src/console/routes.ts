/**
 * src/console — the administrators' web console at /admin (issue 13).
 *
 * Owns: the console's pages and forms (server-rendered HTML, CSRF tokens,
 * no script needed), its sign-in through Portcullis's own CAS login
 * (session.ts), and nothing else. It holds no rule of its own: every action
 * calls the services the REST API calls — AccountService (administrator limit,
 * last administrator, password policy and history), the service registry,
 * the audit log, the live policy, the API's token service — and validates
 * input with the API's own schemas (src/admin/schemas.ts).
 *
 * May import: src/accounts, src/admin (schemas, views, exported helpers),
 * src/cas (registry, URL patterns), src/storage (narrow readers such as
 * console-stats.ts; no SQL here), src/tickets/sessions, src/web (html, i18n,
 * page layout), src/http/params, src/shared. Nothing imports src/console but
 * the composition root (src/app.ts).
 */
import { type RequestHandler, Router } from 'express';
import { policyWithSources } from '../admin/handlers/system';
import { parseCookies } from '../http/params';
import { html } from '../web/html';
import { errorPage } from '../web/views';
import { accountPages } from './accounts';
import { auditPages } from './audit';
import { dashboardPage } from './dashboard';
import { type ConsoleDeps, consolePage } from './context';
import { servicePages } from './services';
import { CONSOLE_CALLBACK_PATH, CONSOLE_COOKIE, CONSOLE_COOKIE_ATTRIBUTES, consolePath } from './session';
import { consoleLayout } from './views';

/** `/`: the console for a signed-in administrator, otherwise the login page. */
function rootRedirect({ auth }: ConsoleDeps): RequestHandler {
  return async (req, res) => {
    const { user } = parseCookies(req.get('cookie')).has(CONSOLE_COOKIE) ? await auth.current(req) : { user: null };
    res.redirect(303, user ? '/admin' : '/cas/login');
  };
}

/** Back from /cas/login with the hand-off token: set the console cookie and go where the administrator was going. */
function signInCallback({ auth }: ConsoleDeps): RequestHandler {
  return async (req, res) => {
    const params = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
    const established = await auth.establish(params.get('ticket') ?? undefined);
    const next = consolePath(params.get('next') ?? undefined);
    if (!established) {
      res.redirect(303, auth.loginUrl(next));
      return;
    }
    res.append('Set-Cookie', `${CONSOLE_COOKIE}=${established.cookie}; ${CONSOLE_COOKIE_ATTRIBUTES}`);
    res.redirect(303, next);
  };
}

/** Everything else under /admin: administrators only. */
function administratorsOnly({ auth, ui }: ConsoleDeps): RequestHandler {
  return async (req, res, next) => {
    const { user, signedInAs } = await auth.current(req);
    if (user) {
      res.locals.consoleUser = user;
      next();
      return;
    }
    if (signedInAs !== undefined) {
      const page = ui.page(req);
      res.status(403).type('html').send(errorPage(page, page.tr.t('console.forbiddenTitle'), page.tr.t('console.forbidden', { username: signedInAs })));
      return;
    }
    // A form POST without a session cannot be replayed after sign-in: come back to the page instead.
    res.redirect(303, auth.loginUrl(req.method === 'GET' ? consolePath(req.originalUrl) : consolePath(req.baseUrl + req.path.replace(/\/(delete|unlock|password)$/, '').replace(/^\/admin\/reauthenticate$/, '/admin'))));
  };
}

/** GET /admin/policy: the live policy and where each value comes from. */
function policyPage(deps: ConsoleDeps): RequestHandler {
  return (req, res) => {
    const page = consolePage(deps, req, res, 'policy');
    const { t } = page.tr;
    const sections = policyWithSources(deps.policy.get(), deps.policy.sources());
    res.type('html').send(
      consoleLayout(
        page,
        t('console.policy.title'),
        html`<p>${t('console.policy.intro')}</p>
${Object.entries(sections).map(
  ([section, values]) => html`<table><caption>${section}</caption><thead><tr><th scope="col">${t('console.policy.key')}</th><th scope="col">${t('console.policy.value')}</th><th scope="col">${t('console.policy.source')}</th></tr></thead>
<tbody>${Object.entries(values).map(([key, v]) => html`<tr><th scope="row"><code>${key}</code></th><td>${String(v.value)}</td><td>${v.source === 'default' ? t('console.policy.default') : v.source}</td></tr>`)}</tbody></table>`,
)}`,
      ),
    );
  };
}

export function consoleRoutes(deps: ConsoleDeps): Router {
  const router = Router();
  router.get('/', rootRedirect(deps));
  router.use('/admin', (_req, res, next) => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    next();
  });
  router.get(CONSOLE_CALLBACK_PATH, signInCallback(deps));
  router.use('/admin', administratorsOnly(deps));
  router.get('/admin', dashboardPage(deps));
  router.use(accountPages(deps), servicePages(deps), auditPages(deps));
  router.get('/admin/policy', policyPage(deps));
  return router;
}
