import { type TestContext, createTestContext } from '../support/test-app';
import { type ApiClient, adminAndUser } from '../support/admin-api';

/**
 * MaxAdministratorCount through the API under concurrency: many requests that
 * would each add an administrator arrive at once; exactly the free slots are
 * granted, every other request gets 409 naming the setting.
 */
describe('administration API: administrator limit under parallel requests', () => {
  let ctx: TestContext;
  let admin: ApiClient;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { administrators: { maxAdministratorCount: 3 } } });
    ({ admin } = await adminAndUser(ctx));
  });
  afterEach(() => ctx.close());

  const countAdmins = () => ctx.services.accounts.countAdministrators(false);

  it('parallel creations of administrators: exactly MaxAdministratorCount exist afterwards', async () => {
    const attempts = Array.from({ length: 12 }, (_, i) => admin.post('/accounts', { username: `boss${i}`, role: 'admin' }));
    const results = await Promise.all(attempts);
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(2);
    expect(statuses.filter((s) => s === 409)).toHaveLength(10);
    for (const refused of results.filter((r) => r.status === 409)) {
      expect(refused.body.type).toBe('https://portcullis.dev/problems/administrator-limit');
      expect(refused.body.detail).toContain('MaxAdministratorCount');
    }
    expect(await countAdmins()).toBe(3);
  });

  it('parallel promotions (and creations) of existing users: exactly MaxAdministratorCount exist afterwards', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push((await admin.post('/accounts', { username: `staff${i}` })).body.id as number);
    const results = await Promise.all([
      ...ids.map((id) => admin.patch(`/accounts/${id}`, { role: 'admin' }, '*')),
      ...Array.from({ length: 4 }, (_, i) => admin.post('/accounts', { username: `new-boss${i}`, role: 'admin' })),
    ]);
    const granted = results.filter((r) => r.status === 200 || r.status === 201);
    expect(granted).toHaveLength(2);
    expect(results.filter((r) => r.status === 409)).toHaveLength(10);
    expect(await countAdmins()).toBe(3);
    const listed = await admin.get('/accounts?role=admin');
    expect(listed.body.total).toBe(3);
  });

  it('parallel demotions never remove the last enabled administrator', async () => {
    const second = await admin.post('/accounts', { username: 'second', role: 'admin' });
    const root = await ctx.services.accountService.requireByUsername('root');
    const results = await Promise.all([
      admin.patch(`/accounts/${second.body.id}`, { role: 'user' }, '*'),
      admin.patch(`/accounts/${root.id}`, { enabled: false }, '*'),
      admin.delete(`/accounts/${second.body.id}`),
    ]);
    expect(results.some((r) => r.status === 409)).toBe(true);
    expect(await ctx.services.accounts.countAdministrators(true)).toBeGreaterThanOrEqual(1);
  });
});
