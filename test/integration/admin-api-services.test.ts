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
