import type request from 'supertest';
import type { TestContext } from './test-app';

export const API = '/api/v1';

type Agent = ReturnType<typeof request.agent>;

/** Requests against /api/v1 with an optional bearer token, over the context's real HTTPS server. */
export class ApiClient {
  constructor(
    private readonly ctx: TestContext,
    readonly token?: string,
  ) {}

  private agent(): Agent {
    return this.ctx.agent();
  }

  private auth<T extends request.Test>(test: T): T {
    return this.token ? (test.set('Authorization', `Bearer ${this.token}`) as T) : test;
  }

  get(path: string): request.Test {
    return this.auth(this.agent().get(API + path));
  }

  post(path: string, body?: unknown): request.Test {
    const test = this.auth(this.agent().post(API + path));
    return body === undefined ? test : test.send(body as object);
  }

  patch(path: string, body: unknown, ifMatch?: string): request.Test {
    const test = this.auth(this.agent().patch(API + path));
    if (ifMatch !== undefined) test.set('If-Match', ifMatch);
    return test.send(body as object);
  }

  delete(path: string): request.Test {
    return this.auth(this.agent().delete(API + path));
  }
}

/** Signs in through POST /api/v1/tokens and returns a client holding the token. */
export async function signIn(ctx: TestContext, username: string, password: string): Promise<ApiClient> {
  const res = await new ApiClient(ctx).post('/tokens', { username, password });
  if (res.status !== 201) throw new Error(`sign-in of ${username} failed: ${res.status} ${res.text}`);
  return new ApiClient(ctx, (res.body as { token: string }).token);
}

export const ADMIN_PASSWORD = 'Admin-Pass-2024';
export const USER_PASSWORD = 'User-Pass-2024';

/** A context with one administrator ("root") and one user ("alice"), both signed in. */
export async function adminAndUser(ctx: TestContext): Promise<{ admin: ApiClient; user: ApiClient; anonymous: ApiClient }> {
  await ctx.addUser('root', ADMIN_PASSWORD, { role: 'admin' });
  await ctx.addUser('alice', USER_PASSWORD);
  return { admin: await signIn(ctx, 'root', ADMIN_PASSWORD), user: await signIn(ctx, 'alice', USER_PASSWORD), anonymous: new ApiClient(ctx) };
}
