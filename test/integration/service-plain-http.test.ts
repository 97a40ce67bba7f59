import { serviceCommand } from '../../src/cli/service-commands';
import { type TestContext, createTestContext } from '../support/test-app';
import { type ApiClient, adminAndUser } from '../support/admin-api';

/** Issue 16: a plain http:// service URL is refused unless allowed explicitly, and then warned about. */

const PLAIN = 'http://legacy.example.test/login';

describe('plain http:// service URLs', () => {
  let ctx: TestContext;
  let admin: ApiClient;
  beforeEach(async () => {
    ctx = await createTestContext();
    ({ admin } = await adminAndUser(ctx));
  });
  afterEach(() => ctx.close());

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
  });

  it('CLI: refused without --allow-http; registered with a warning on stderr with it', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const run = (args: string[]) => serviceCommand(args, (work) => work(ctx.services), (l) => out.push(l), (l) => err.push(l));
    await expect(run(['add', 'legacy', '--url', PLAIN])).rejects.toThrow(/plain http:\/\/.*--allow-http/);
    expect(await ctx.services.serviceRegistry.findByName('legacy')).toBeNull();
    await run(['add', 'legacy', '--url', PLAIN, '--allow-http']);
    expect(out[0]).toContain(`registered legacy\t${PLAIN}`);
    expect(err).toEqual([expect.stringMatching(/^warning: .*in clear/)]);
  });
});
