/**
 * Every password way in goes through passport (src/http/passport.ts): the
 * login form, REST tickets and API tokens each run their own strategy, which
 * reads the request. A door that bypassed passport, or passed the wrong
 * strategy, fails here. (SPNEGO's way in is checked in
 * test/infra/ad-kerberos.test.ts, against the real KDC.)
 */
import request from 'supertest';
import { Passport } from 'passport';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';

const PASSWORD = 'Correct-Horse-7';

describe('passport is on the path of every password way in', () => {
  let ctx: TestContext;
  const authenticate = jest.spyOn(Passport.prototype, 'authenticate');
  beforeAll(async () => {
    ctx = await createTestContext();
    await ctx.addUser('alice', PASSWORD);
  });
  afterAll(() => ctx.close());
  afterEach(() => authenticate.mockClear());

  const doors = {
    form: (password: string) => submitLogin(ctx.agent(), 'alice', password),
    rest: (password: string) => request(ctx.url).post('/cas/v1/tickets').ca(ctx.ca).type('form').send({ username: 'alice', password }),
    api_token: (password: string) => request(ctx.url).post('/api/v1/tokens').ca(ctx.ca).send({ username: 'alice', password }),
  };

  test.each([
    ['form', 200],
    ['rest', 201],
    ['api_token', 201],
  ] as const)('%s: the right password signs in through its strategy; a wrong one is refused through it', async (strategy, created) => {
    expect((await doors[strategy](PASSWORD)).status).toBe(created);
    expect(authenticate.mock.calls.map(([name]) => name)).toEqual([strategy]);
    authenticate.mockClear();
    expect((await doors[strategy]('Wrong-Horse-7')).status).toBe(401);
    expect(authenticate.mock.calls.map(([name]) => name)).toEqual([strategy]);
  });
});
