/**
 * Passport at the edge (src/http/passport.ts): each way in's strategy reads
 * the credential from a real express request (form body, JSON body,
 * Authorization header) and works as an ordinary passport middleware, so
 * these tests fail if the strategies stop reading the request or stop being
 * passport strategies.
 */
import express, { type Request, type Response } from 'express';
import request from 'supertest';
import type { PasswordCredential } from '../../src/authn/backend';
import type { LoginResult, RequestContext } from '../../src/authn/login-service';
import type { NegotiateOutcome } from '../../src/authn/windows/spnego';
import { type EdgeStrategy, edgeAuthenticator, edgePassport } from '../../src/http/passport';
import { InputError } from '../../src/shared/errors';

const SUCCESS = { status: 'success', account: { id: 7, username: 'alice' }, backend: 'internal', factors: [] } as unknown as LoginResult;

function fakes(result: LoginResult = SUCCESS) {
  const logins: Array<{ credential: PasswordCredential; context: RequestContext }> = [];
  const negotiations: Array<{ authorization: string; context: RequestContext }> = [];
  const loginService = {
    login: async (credential: PasswordCredential, context: RequestContext) => {
      logins.push({ credential, context });
      return result;
    },
  };
  const negotiate = {
    challenge: 'Negotiate' as const,
    authenticate: async (authorization: string, context: RequestContext): Promise<NegotiateOutcome> => {
      negotiations.push({ authorization, context });
      return { kind: 'login', result, responseToken: 'b2s=' };
    },
  };
  return { passport: edgePassport(loginService, negotiate), logins, negotiations };
}

/** An app that mounts a strategy exactly as passport documents it (no Portcullis wrapper): user → 200 JSON. */
function plainPassportApp(passport: ReturnType<typeof edgePassport>, strategy: EdgeStrategy) {
  const app = express();
  app.post('/form', express.raw({ type: () => true }), passport.authenticate(strategy, { session: false }), (req: Request, res: Response) => {
    res.json(req.user);
  });
  app.post('/json', express.json(), passport.authenticate(strategy, { session: false }), (req: Request, res: Response) => {
    res.json(req.user);
  });
  app.use((error: Error, _req: Request, res: Response, _next: express.NextFunction) => {
    res.status(error instanceof InputError ? 400 : 500).send(error.message);
  });
  return app;
}

describe('passport strategies read the request', () => {
  test.each([
    ['form', 'login_form'],
    ['rest', 'rest'],
  ] as const)('%s: username and password from the form body of a real request, context from its headers', async (strategy, channel) => {
    const { passport, logins } = fakes();
    const res = await request(plainPassportApp(passport, strategy))
      .post('/form')
      .set('User-Agent', 'edge-test')
      .type('form')
      .send({ username: '  alice ', password: 'Correct-Horse-7' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'success', account: { username: 'alice' } });
    expect(logins).toEqual([{ credential: { username: 'alice', password: 'Correct-Horse-7' }, context: expect.objectContaining({ channel, userAgent: 'edge-test' }) }]);
  });

  test('api_token: username and password from the JSON body', async () => {
    const { passport, logins } = fakes();
    const res = await request(plainPassportApp(passport, 'api_token')).post('/json').send({ username: 'alice', password: 'Correct-Horse-7' });
    expect(res.status).toBe(200);
    expect(logins).toEqual([{ credential: { username: 'alice', password: 'Correct-Horse-7' }, context: expect.objectContaining({ channel: 'api_token' }) }]);
  });

  test("rest: bad input is an error in REST's words, and no login is attempted", async () => {
    const { passport, logins } = fakes();
    const res = await request(plainPassportApp(passport, 'rest')).post('/form').type('form').send({ username: 'alice' });
    expect(res.status).toBe(400);
    expect(res.text).toBe("'username' and 'password' are both required.");
    expect(logins).toEqual([]);
  });

  test("a refusal is passport's failure, with the refusal table's status (locked: 423)", async () => {
    const { passport } = fakes({ status: 'locked', lockedUntil: Date.now() + 60_000 });
    const res = await request(plainPassportApp(passport, 'form')).post('/form').type('form').send({ username: 'alice', password: 'x' });
    expect(res.status).toBe(423);
  });

  test('negotiate: reads the Authorization header; without one, fails with the Negotiate challenge', async () => {
    const { passport, negotiations } = fakes();
    const app = plainPassportApp(passport, 'negotiate');
    const none = await request(app).post('/form');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBeUndefined(); // the challenge is an object for the door, not a header passport sets
    const res = await request(app).post('/form').set('Authorization', 'Negotiate YIIBAAAA');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'login', responseToken: 'b2s=', result: { status: 'success' } });
    expect(negotiations).toEqual([{ authorization: 'Negotiate YIIBAAAA', context: expect.objectContaining({ channel: 'spnego' }) }]);
  });
});

describe('edgeAuthenticator: the promise the front doors await', () => {
  function doorApp(strategy: EdgeStrategy, result?: LoginResult) {
    const { passport } = fakes(result);
    const authenticate = edgeAuthenticator(passport);
    const app = express();
    app.post('/door', express.raw({ type: () => true }), async (req, res) => {
      res.json(await authenticate(strategy, req, res));
    });
    app.use((error: Error, _req: Request, res: Response, _next: express.NextFunction) => {
      res.status(400).send(error.message);
    });
    return app;
  }

  test('resolves with the success, or with the refusal (the challenge), and leaves the answer to the door', async () => {
    const ok = await request(doorApp('form')).post('/door').type('form').send({ username: 'alice', password: 'x' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'success' });
    const refused = await request(doorApp('form', { status: 'invalid' })).post('/door').type('form').send({ username: 'alice', password: 'x' });
    expect(refused.status).toBe(200);
    expect(refused.body).toEqual({ status: 'invalid' });
    const challenged = await request(doorApp('negotiate')).post('/door');
    expect(challenged.body).toEqual({ kind: 'challenge', challenge: 'Negotiate' });
  });

  test("rejects with the strategy's input error (the door's error handler renders it)", async () => {
    const res = await request(doorApp('rest')).post('/door').type('form').send({ username: 'alice', password: 'x'.repeat(2000) });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/^The password is longer than \d+ bytes\.$/);
  });
});
