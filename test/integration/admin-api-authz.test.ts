import { type TestContext, createTestContext } from '../support/test-app';
import { API, ApiClient } from '../support/admin-api';
import { ApiTokenService } from '../../src/admin/api-tokens';
import { KnexApiTokenStore } from '../../src/storage/api-token-store';
import type { Account } from '../../src/accounts/account';

type Who = 'public' | 'account' | 'admin';

/**
 * Who may call what, written out by hand: the matrix below checks the served
 * API against this table, and the table against the OpenAPI document.
 */
const EXPECTED_ACCESS: Record<string, Who> = {
  'POST /tokens': 'public',
  'GET /tokens': 'admin',
  'DELETE /tokens/current': 'account',
  'DELETE /tokens/{id}': 'admin',
  'GET /me': 'account',
  'POST /me/password': 'account',
  'GET /me/factors': 'account',
  'POST /me/factors': 'account',
  'POST /me/factors/confirm': 'account',
  'DELETE /me/factors/{factorId}': 'account',
  'GET /accounts': 'admin',
  'POST /accounts': 'admin',
  'GET /accounts/{id}': 'admin',
  'PATCH /accounts/{id}': 'admin',
  'DELETE /accounts/{id}': 'admin',
  'POST /accounts/{id}/password': 'admin',
  'POST /accounts/{id}/unlock': 'admin',
  'GET /accounts/{id}/lockout': 'admin',
  'GET /accounts/{id}/factors': 'admin',
  'DELETE /accounts/{id}/factors/{factorId}': 'admin',
  'POST /accounts/{id}/factors/reset': 'admin',
  'GET /accounts/by-name/{username}': 'admin',
  'PATCH /accounts/by-name/{username}': 'admin',
  'DELETE /accounts/by-name/{username}': 'admin',
  'POST /accounts/by-name/{username}/password': 'admin',
  'POST /accounts/by-name/{username}/unlock': 'admin',
  'GET /accounts/by-name/{username}/lockout': 'admin',
  'GET /accounts/by-name/{username}/factors': 'admin',
  'DELETE /accounts/by-name/{username}/factors/{factorId}': 'admin',
  'POST /accounts/by-name/{username}/factors/reset': 'admin',
  'GET /services': 'admin',
  'POST /services': 'admin',
  'GET /services/{id}': 'admin',
  'PATCH /services/{id}': 'admin',
  'DELETE /services/{id}': 'admin',
  'GET /audit': 'admin',
  'GET /policy': 'admin',
  'GET /stats': 'admin',
  'GET /version': 'admin',
  'GET /openapi.json': 'public',
};

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { 'x-portcullis-access': Who; security: unknown[]; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown> };
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  match(path: string): unknown;
}

/** Every route express actually serves under /api/v1, as "METHOD /openapi/{style}". */
function servedApiRoutes(app: TestContext['app']): string[] {
  const top = (app as unknown as { router: { stack: Layer[] } }).router.stack;
  const adminRouters = top.filter((layer) => layer.handle.stack && layer.match(API) && !layer.match('/elsewhere'));
  expect(adminRouters).toHaveLength(1);
  const served: string[] = [];
  for (const layer of adminRouters[0].handle.stack ?? []) {
    if (!layer.route) continue;
    // `_all`: the 405 responder behind each path (src/admin/routes.ts), not an operation of its own.
    for (const method of Object.keys(layer.route.methods).filter((m) => m !== '_all')) served.push(`${method.toUpperCase()} ${layer.route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
  }
  // No other router may answer under /api.
  const stray = (layers: Layer[]): string[] =>
    layers.flatMap((layer) => (layer === adminRouters[0] ? [] : layer.route ? (layer.route.path.startsWith('/api') ? [layer.route.path] : []) : stray(layer.handle.stack ?? [])));
  expect(stray(top)).toEqual([]);
  return served.sort();
}

describe('administration API: authorization matrix and OpenAPI', () => {
  let ctx: TestContext;
  let doc: OpenApiDoc;
  beforeAll(async () => {
    ctx = await createTestContext({ overrides: { administrators: { maxAdministratorCount: 5 } } });
    doc = (await new ApiClient(ctx).get('/openapi.json')).body as OpenApiDoc;
  });
  afterAll(() => ctx.close());

  const documented = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)).sort();

  it('serves an OpenAPI 3.1 document that lists exactly the routes express serves', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(documented()).toEqual(servedApiRoutes(ctx.app));
  });

  it('documents who may call each route as the access table says, with bearer security on protected routes', () => {
    expect(documented()).toEqual(Object.keys(EXPECTED_ACCESS).sort());
    for (const [key, who] of Object.entries(EXPECTED_ACCESS)) {
      const [method, path] = key.split(' ');
      const operation = doc.paths[path][method.toLowerCase()];
      expect([key, operation['x-portcullis-access']]).toEqual([key, who]);
      expect([key, operation.security]).toEqual([key, who === 'public' ? [] : [{ bearerAuth: [] }]]);
      if (who !== 'public') expect([key, Object.keys(operation.responses)]).toEqual([key, expect.arrayContaining(['401'])]);
      if (who === 'admin') expect([key, Object.keys(operation.responses)]).toEqual([key, expect.arrayContaining(['403'])]);
    }
  });

  it('answers a known path with another method 405 and the methods it takes, OPTIONS with them, an unknown path 404', async () => {
    const put = await ctx.agent().put(`${API}/accounts`).send({});
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD, POST');
    expect(put.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(put.body).toMatchObject({ type: 'https://portcullis.dev/problems/method-not-allowed', status: 405 });
    expect(put.body.detail).toContain('PUT');
    const tokenPatch = await ctx.agent().patch(`${API}/tokens/current`).send({});
    expect([tokenPatch.status, tokenPatch.headers.allow]).toEqual([405, 'DELETE']);
    const options = await ctx.agent().options(`${API}/accounts/7`);
    expect([options.status, options.headers.allow]).toEqual([200, 'DELETE, GET, HEAD, PATCH']);
    expect((await ctx.agent().put(`${API}/no-such-thing`)).status).toBe(404);
  });

  it('generates request and response schemas from the zod schemas (strict bodies, shared components)', () => {
    const schemas = doc.components.schemas as Record<string, { additionalProperties?: boolean; properties?: Record<string, unknown>; required?: string[] }>;
    expect(schemas.AccountCreate.additionalProperties).toBe(false);
    expect(schemas.AccountCreate.required).toEqual(['username']);
    expect(Object.keys(schemas.AccountUpdate.properties ?? {}).sort()).toEqual(['description', 'displayName', 'email', 'enabled', 'role']);
    expect(schemas.Account.properties).not.toHaveProperty('passwordHash');
    expect(schemas.Problem.properties).toHaveProperty('errors');
    const patch = doc.paths['/accounts/{id}'].patch as unknown as { parameters: { name: string; in: string; required: boolean }[]; responses: Record<string, unknown> };
    expect(patch.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path', required: true }), expect.objectContaining({ name: 'If-Match', in: 'header', required: true })]));
    expect(Object.keys(patch.responses).sort()).toEqual(['200', '400', '401', '403', '404', '409', '412', '415', '422', '428']);
    const list = doc.paths['/accounts'].get as unknown as { parameters: { name: string }[] };
    expect(list.parameters.map((p) => p.name).sort()).toEqual(['limit', 'locked', 'offset', 'role', 'search', 'source', 'state']);
  });

  describe('each route × anonymous / user / administrator', () => {
    let tokens: ApiTokenService;
    let target: Account;
    let serviceId: number;
    let admin: Account;
    let user: Account;

    beforeAll(async () => {
      await ctx.addUser('root', 'Admin-Pass-2024', { role: 'admin' });
      await ctx.addUser('alice', 'User-Pass-2024');
      await ctx.addUser('target', 'Victim-Pass-2024');
      admin = await ctx.services.accountService.requireByUsername('root');
      user = await ctx.services.accountService.requireByUsername('alice');
      target = await ctx.services.accountService.requireByUsername('target');
      serviceId = (await ctx.services.serviceRegistry.create({ name: 'matrix', serviceUrl: 'https://app.example.test/' })).id;
      tokens = new ApiTokenService(new KnexApiTokenStore(ctx.services.db.knex), ctx.services.audit, ctx.services.clock, () => 900);
    });

    /** The account and service the {id} routes act on, recreated after a DELETE row removed them. */
    async function ensureTargets(): Promise<void> {
      if (!(await ctx.services.accounts.findById(target.id))) {
        await ctx.addUser('target', 'Victim-Pass-2024');
        target = await ctx.services.accountService.requireByUsername('target');
      }
      if (!(await ctx.services.serviceRegistry.get(serviceId))) serviceId = (await ctx.services.serviceRegistry.create({ name: 'matrix', serviceUrl: 'https://app.example.test/' })).id;
    }

    /** A fresh token per call, so a route that revokes or deletes cannot spoil the next row. */
    async function callAs(who: 'anonymous' | 'user' | 'admin', method: string, path: string) {
      await ensureTargets();
      const account = who === 'admin' ? admin : who === 'user' ? user : null;
      const token = account ? (await tokens.issue(account, 'full', { clientIp: null, userAgent: null, channel: 'test' })).secret : undefined;
      const victim = (await tokens.issue(target, 'full', { clientIp: null, userAgent: null, channel: 'test' })).token.id;
      const concrete = path.replace('/accounts/{id}', `/accounts/${target.id}`).replace('/services/{id}', `/services/${serviceId}`).replace('/tokens/{id}', `/tokens/${victim}`);
      const client = new ApiClient(ctx, token);
      const body = { description: 'matrix' };
      switch (method) {
        case 'GET':
          return client.get(concrete);
        case 'POST':
          return client.post(concrete, body);
        case 'PATCH':
          return client.patch(concrete, body, '*');
        default:
          return client.delete(concrete);
      }
    }

    const rows = Object.entries(EXPECTED_ACCESS).map(([key, who]) => [key, who] as const);

    it.each(rows)('%s (%s)', async (key, who) => {
      const [method, path] = key.split(' ');
      const anonymous = await callAs('anonymous', method, path);
      const asUser = await callAs('user', method, path);
      const asAdmin = await callAs('admin', method, path);
      const summary = { anonymous: anonymous.status, user: asUser.status, admin: asAdmin.status };
      if (who === 'public') {
        expect(anonymous.status).not.toBe(401);
        expect(anonymous.status).not.toBe(403);
      } else {
        expect(summary.anonymous).toBe(401);
        expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      if (who === 'admin') {
        expect(summary.user).toBe(403);
        expect(asUser.body.type).toBe('https://portcullis.dev/problems/forbidden');
      } else {
        expect([401, 403]).not.toContain(summary.user);
      }
      expect([401, 403]).not.toContain(summary.admin);
      expect(summary.admin).toBeLessThan(500);
      expect(summary.user).toBeLessThan(500);
    });
  });

  it('answers unknown /api paths with a problem+json 404', async () => {
    const res = await new ApiClient(ctx).get('/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
