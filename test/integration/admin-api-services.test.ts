import { runCommand } from '../../src/cli/commands';
import type { CliContext } from '../../src/cli/context';
import { type TestContext, createTestContext } from '../support/test-app';
import { type ApiClient, adminAndUser } from '../support/admin-api';

const PROBLEM = 'https://portcullis.dev/problems/';

describe('administration API: CAS service registry', () => {
  let ctx: TestContext;
  let admin: ApiClient;
  beforeEach(async () => {
    ctx = await createTestContext();
    ({ admin } = await adminAndUser(ctx));
  });
  afterEach(() => ctx.close());

  // Issue 16: a plain http:// service URL is refused unless allowed explicitly, and then warned about.
  const PLAIN = 'http://legacy.example.test/login';

  it('API: refused (422, naming the field) without allowHttp; registered with a warnings field with it', async () => {
    const refused = await admin.post('/services', { name: 'legacy', serviceUrl: PLAIN });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([{ field: 'serviceUrl', rule: 'https', message: expect.stringContaining('in clear') }]);
    expect(await ctx.services.serviceRegistry.findByName('legacy')).toBeNull();

    const allowed = await admin.post('/services', { name: 'legacy', serviceUrl: PLAIN, allowHttp: true });
    expect(allowed.status).toBe(201);
    expect(allowed.body.warnings).toEqual([expect.stringContaining(`${PLAIN} is plain http://`)]);
    expect(allowed.body).not.toHaveProperty('allowHttp');

    const secure = await admin.post('/services', { name: 'modern', serviceUrl: 'https://modern.example.test/' });
    expect(secure.status).toBe(201);
    expect(secure.body).not.toHaveProperty('warnings');
    const patched = await admin.patch(`/services/${secure.body.id}`, { logoutUrl: 'http://modern.example.test/slo' }, '*');
    expect(patched.status).toBe(422);
    expect(patched.body.errors[0].field).toBe('logoutUrl');
    expect((await admin.patch(`/services/${secure.body.id}`, { allowHttp: true }, '*')).status).toBe(422);
  });

  it('CLI: refused without --allow-http; registered with a warning on stderr with it', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const cli: CliContext = {
      io: { out: (t) => void out.push(t.replace(/\n$/, '')), err: (t) => void err.push(t.replace(/\n$/, '')), interactive: false },
      load: {},
      withServices: (work) => work(ctx.services),
    };
    const run = (args: string[]) => runCommand(['service', ...args], cli);
    await expect(run(['add', 'legacy', '--url', PLAIN])).rejects.toThrow(/plain http:\/\/.*--allow-http/);
    expect(await ctx.services.serviceRegistry.findByName('legacy')).toBeNull();
    await run(['add', 'legacy', '--url', PLAIN, '--allow-http']);
    expect(out[0]).toContain(`registered legacy\t${PLAIN}`);
    expect(err).toEqual([expect.stringMatching(/^warning: .*in clear/)]);
  });


  it('registers, reads, lists, updates (If-Match) and removes a service, auditing each change with the administrator', async () => {
    const created = await admin.post('/services', { name: 'MA4000', serviceUrl: 'https://ma4000.example.test/login', description: 'Management System', releasedAttributes: ['displayName'] });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/api/v1/services/${created.body.id}`);
    expect(created.headers.etag).toBe('"1"');
    expect(created.body).toMatchObject({ name: 'MA4000', serviceUrl: 'https://ma4000.example.test/login', enabled: true, releasedAttributes: ['displayName'], version: 1 });
    expect(await ctx.services.serviceRegistry.match('https://ma4000.example.test/login')).not.toBeNull();

    const id = created.body.id as number;
    const got = await admin.get(`/services/${id}`);
    expect(got.status).toBe(200);
    expect(got.headers.etag).toBe('"1"');
    await admin.post('/services', { name: 'Portal', serviceUrl: 'https://portal.example.test/*', enabled: false });
    const list = await admin.get('/services');
    expect(list.body.total).toBe(2);
    expect((await admin.get('/services?enabled=false')).body.items.map((s: { name: string }) => s.name)).toEqual(['Portal']);

    const updated = await admin.patch(`/services/${id}`, { enabled: false }, got.headers.etag);
    expect(updated.status).toBe(200);
    expect(updated.headers.etag).toBe('"2"');
    const stale = await admin.patch(`/services/${id}`, { description: 'late' }, got.headers.etag);
    expect(stale.status).toBe(412);
    expect((await admin.patch(`/services/${id}`, { description: 'x' })).status).toBe(428);

    expect((await admin.delete(`/services/${id}`)).status).toBe(204);
    expect((await admin.get(`/services/${id}`)).status).toBe(404);
    expect((await admin.delete(`/services/${id}`)).status).toBe(404);

    const events = (await ctx.services.audit.query({ limit: 100 })).events.filter((e) => e.event.startsWith('service_'));
    expect(events.map((e) => e.event).reverse()).toEqual(['service_created', 'service_created', 'service_updated', 'service_deleted']);
    expect(events.every((e) => e.actor === 'root')).toBe(true);
    expect(events[0].details).toMatchObject({ serviceId: id, name: 'MA4000' });
  });

  it('reports registry validation problems per field (422) and duplicate names (409)', async () => {
    const bad = await admin.post('/services', { name: 'Plain', serviceUrl: 'ftp://files.example.test/' });
    expect(bad.status).toBe(422);
    expect(bad.body.type).toBe(`${PROBLEM}validation-failed`);
    expect(bad.body.errors[0]).toMatchObject({ field: 'serviceUrl' });
    const unknown = await admin.post('/services', { name: 'X', serviceUrl: 'https://x.example.test/', theme: 'dark' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toContainEqual({ field: 'theme', rule: 'unknown_field', message: 'is not a field of this request' });
    expect((await admin.post('/services', { name: 'Dup', serviceUrl: 'https://a.example.test/' })).status).toBe(201);
    const dup = await admin.post('/services', { name: 'Dup', serviceUrl: 'https://b.example.test/' });
    expect(dup.status).toBe(409);
    expect(dup.body.type).toBe(`${PROBLEM}service-name-taken`);
  });
});
