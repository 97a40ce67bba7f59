import { Router } from 'express';
import { ApiGuard } from './guard';
import { type OpenApiDocument, buildOpenApi } from './openapi';
import { type ApiRoute, defineRoute, mountRoute } from './route-kit';
import type { AdminDeps } from './handlers/context';
import { accountRoutes } from './handlers/accounts';
import { auditRoutes } from './handlers/audit';
import { myFactorRoutes } from './handlers/factors';
import { meRoutes } from './handlers/me';
import { serviceRoutes } from './handlers/services';
import { systemRoutes } from './handlers/system';
import { tokenRoutes } from './handlers/tokens';
import { apiError } from './error-codes';

export const API_PREFIX = '/api/v1';

/** Bearer-token authentication for /api/v1 (and /metrics on the main port). */
export function apiGuard(deps: Pick<AdminDeps, 'tokens' | 'accounts' | 'audit' | 'clock'>): ApiGuard {
  return new ApiGuard(deps.tokens, deps.accounts, deps.audit, deps.clock);
}

/** Every /api/v1 route, in registration order (specific paths before parameterised ones). */
export function apiRoutes(deps: AdminDeps): ApiRoute[] {
  const routes = [...tokenRoutes(deps), ...meRoutes(deps), ...myFactorRoutes(deps), ...accountRoutes(deps), ...serviceRoutes(deps), ...auditRoutes(deps), ...systemRoutes(deps)];
  let document: OpenApiDocument | undefined;
  routes.push(
    defineRoute({
      method: 'get',
      path: '/openapi.json',
      access: 'public',
      tag: 'system',
      summary: 'This API described as OpenAPI 3.1 (generated from the request and response schemas)',
      responses: { 200: { description: 'The OpenAPI document.' } },
      async handle() {
        document ??= buildOpenApi(routes, deps.publicUrl.to(API_PREFIX));
        return { status: 200, body: document };
      },
    }),
  );
  return routes;
}

/**
 * The administration API, mounted at /api/v1 by createApp. Responses are never
 * cached (tokens, account data); errors reach the central handler, which
 * renders application/problem+json for /api paths.
 */
export function adminRouter(deps: AdminDeps): Router {
  const router = Router();
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  const guard = apiGuard(deps);
  const methodsByPath = new Map<string, string[]>();
  for (const route of apiRoutes(deps)) {
    mountRoute(router, route, guard);
    const methods = methodsByPath.get(route.path) ?? [];
    methods.push(route.method.toUpperCase(), ...(route.method === 'get' ? ['HEAD'] : []));
    methodsByPath.set(route.path, methods);
  }
  // A known path with another method: 405 naming the methods it has (RFC 9110 §15.5.6), not 404.
  // (OPTIONS never gets here: express answers it with the Allow list itself.)
  for (const [path, methods] of methodsByPath) {
    const allow = methods.join(', ');
    router.all(path, (req, res, next) => {
      res.set('Allow', allow);
      next(apiError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; this address takes ${allow}.`));
    });
  }
  return router;
}
