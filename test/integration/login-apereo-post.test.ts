import { createTestContext, executionFrom, type TestContext } from '../support/test-app';
import { registerService, ticketFromRedirect } from '../support/cas-helpers';

/**
 * Issue 16 item 2: Apereo's login form posts to `/cas/login?service=…` with only
 * the credentials and `execution` in the body; tools written for it rely on it.
 */

const APP = 'https://app.example.org/login';
const OTHER = 'https://other.example.org/login';
const PASSWORD = 'Correct-Horse-7';

describe('login form posts carrying the service request in the URL', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
    await ctx.addUser('alice', PASSWORD);
    await registerService(ctx, { serviceUrl: APP });
    await registerService(ctx, { serviceUrl: OTHER });
  });
  afterEach(() => ctx.close());

  async function execution(agent: ReturnType<TestContext['agent']>): Promise<string> {
    return executionFrom((await agent.get('/cas/login')).text);
  }

  it('honours service from the query of a POST (Apereo style) and redirects with a ticket', async () => {
    const agent = ctx.agent();
    const exec = await execution(agent);
    const res = await agent.post(`/cas/login?${new URLSearchParams({ service: APP })}`).type('form').send({ username: 'alice', password: PASSWORD, execution: exec });
    expect(ticketFromRedirect(res)).toMatch(/^ST-/);
    expect(new URL(res.headers.location as string).origin + new URL(res.headers.location as string).pathname).toBe(APP);
  });

  it('honours method=POST and renew from the query', async () => {
    const agent = ctx.agent();
    const exec = await execution(agent);
    const res = await agent
      .post(`/cas/login?${new URLSearchParams({ service: APP, method: 'POST', renew: 'true' })}`)
      .type('form')
      .send({ username: 'alice', password: PASSWORD, execution: exec });
    expect(res.status).toBe(200);
    expect(res.text).toContain(`action="${APP}"`);
    expect(res.text).toMatch(/name="ticket" value="ST-/);
  });

  it('accepts the same service in the query and the body', async () => {
    const agent = ctx.agent();
    const exec = await execution(agent);
    const res = await agent.post(`/cas/login?${new URLSearchParams({ service: APP })}`).type('form').send({ username: 'alice', password: PASSWORD, execution: exec, service: APP });
    expect(ticketFromRedirect(res)).toMatch(/^ST-/);
  });

  it('refuses, with a readable 400 page, a query and a body naming different services', async () => {
    const agent = ctx.agent();
    const exec = await execution(agent);
    const res = await agent.post(`/cas/login?${new URLSearchParams({ service: APP })}`).type('form').send({ username: 'alice', password: PASSWORD, execution: exec, service: OTHER });
    expect(res.status).toBe(400);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('different values for &#34;service&#34;');
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['set-cookie']?.toString() ?? '').not.toContain('TGC=TGT-');
  });

  it('renders the login form posting to a URL that carries the service request, and that post signs in', async () => {
    const agent = ctx.agent();
    const page = await agent.get(`/cas/login?${new URLSearchParams({ service: APP, renew: 'true' })}`);
    const action = /<form method="post" action="([^"]+)"/.exec(page.text)?.[1].replace(/&#38;/g, '&');
    expect(action).toBe(`/cas/login?${new URLSearchParams({ service: APP, renew: 'true' })}`);
    const res = await agent.post(action!).type('form').send({ username: 'alice', password: PASSWORD, execution: executionFrom(page.text) });
    expect(ticketFromRedirect(res)).toMatch(/^ST-/);
  });
});
