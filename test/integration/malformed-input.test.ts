import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { API, type ApiClient, adminAndUser } from '../support/admin-api';
import { parseRow } from '../../src/jobs/legacy-import';

/**
 * Malformed input against the whole administration API and the CAS endpoints.
 * The test command runs test/integration a second time with
 * PORTCULLIS_TEST_DB=postgres, so every expectation here holds on both stores
 * (PostgreSQL refuses NUL in text and ids past 2^31-1 with errors of its own).
 */

const PROBLEM = 'https://portcullis.dev/problems/';
const TOO_LARGE_IDS = ['2147483648', '4294967296', '9999999999'];

describe('malformed input (API and CAS), on every store', () => {
  let ctx: TestContext;
  let admin: ApiClient;
  let aliceId: number;
  let serviceId: number;
  beforeAll(async () => {
    ctx = await createTestContext({ overrides: { api: { tokenTtlSeconds: 3600 } } });
    ({ admin } = await adminAndUser(ctx));
    aliceId = (await ctx.services.accountService.requireByUsername('alice')).id;
    const created = await admin.post('/services', { name: 'app', serviceUrl: 'https://app.example.test/*' });
    expect(created.status).toBe(201);
    serviceId = created.body.id as number;
  });
  afterAll(() => ctx.close());

  function expectProblem(res: { status: number; headers: Record<string, string>; body: { type?: string } }, status: number, type?: string): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (type) expect(res.body.type).toBe(`${PROBLEM}${type}`);
  }

  function fieldsOf(res: { body: { errors?: { field?: string; rule: string }[] } }): string[] {
    return (res.body.errors ?? []).map((e) => `${e.field}:${e.rule}`);
  }

  it('answers 404 for ids past the 32-bit range on every id route', async () => {
    for (const id of TOO_LARGE_IDS) {
      const calls = [
        admin.get(`/accounts/${id}`),
        admin.get(`/accounts/${id}/lockout`),
        admin.post(`/accounts/${id}/unlock`),
        admin.post(`/accounts/${id}/password`, { password: 'Whatever-Pass-1' }),
        admin.patch(`/accounts/${id}`, { description: 'x' }, '*'),
        admin.delete(`/accounts/${id}`),
        admin.get(`/services/${id}`),
        admin.patch(`/services/${id}`, { description: 'x' }, '*'),
        admin.delete(`/services/${id}`),
      ];
      for (const res of await Promise.all(calls)) {
        expectProblem(res, 404, 'not-found');
      }
    }
    // The largest id that fits is an ordinary unknown id.
    expectProblem(await admin.get('/accounts/2147483647'), 404, 'not-found');
  });

  it('refuses NUL and other control characters in query filters with 422 naming the parameter', async () => {
    const cases: [string, string][] = [
      ['/accounts?search=ali%00', 'search'],
      ['/accounts?search=%1b%5b2J', 'search'],
      ['/accounts?source=%00', 'source'],
      ['/audit?username=alice%00', 'username'],
      ['/audit?event=login%00', 'event'],
      ['/audit?event=%7f', 'event'],
      ['/tokens?username=%00', 'username'],
    ];
    for (const [path, field] of cases) {
      const res = await admin.get(path);
      expectProblem(res, 422, 'validation-failed');
      expect([path, fieldsOf(res)]).toEqual([path, [`${field}:control_characters`]]);
    }
  });

  it('refuses control characters in stored fields of accounts and services with 422, storing nothing', async () => {
    const before = (await admin.get('/accounts')).body.total as number;
    const create = await admin.post('/accounts', { username: 'carol', displayName: 'Carol\u0000', description: 'a\u0001b' });
    expectProblem(create, 422, 'validation-failed');
    expect(fieldsOf(create).sort()).toEqual(['description:control_characters', 'displayName:control_characters']);
    expect((await admin.get('/accounts')).body.total).toBe(before);

    const update = await admin.patch(`/accounts/${aliceId}`, { displayName: 'Alice', description: 'x\u0000' }, '*');
    expectProblem(update, 422, 'validation-failed');
    expect(fieldsOf(update)).toEqual(['description:control_characters']);
    expect((await admin.get(`/accounts/${aliceId}`)).body.description).toBeNull();

    const service = await admin.post('/services', { name: 'other', serviceUrl: 'https://other.example.test/', description: '\u0000' });
    expectProblem(service, 422, 'validation-failed');
    expect(fieldsOf(service)).toEqual(['description:control_characters']);
    const attribute = await admin.patch(`/services/${serviceId}`, { releasedAttributes: ['mail', 'cn\u0000'] }, '*');
    expectProblem(attribute, 422, 'validation-failed');
    expect(fieldsOf(attribute)).toEqual(['releasedAttributes.1:control_characters']);
  });

  it('refuses NUL in the fields of a legacy import row (the other way accounts get stored text)', () => {
    const columns = { username: 0, md5: 1, displayName: 2, email: 3, role: undefined, enabled: undefined };
    const row = parseRow(2, ['dora', 'd41d8cd98f00b204e9800998ecf8427e', 'Dora\u0000', 'dora\u0000@example.test'], columns, 4);
    expect(row).toEqual({ line: 2, message: expect.stringMatching(/invalid display name .*; invalid e-mail address/) });
  });

  it('accepts line breaks and tabs in descriptions (they are text), and stores them as sent', async () => {
    const res = await admin.patch(`/accounts/${aliceId}`, { description: 'line one\r\nline two\tend' }, '*');
    expect(res.status).toBe(200);
    expect(res.body.description).toBe('line one\r\nline two\tend');
    expectProblem(await admin.patch(`/accounts/${aliceId}`, { displayName: 'Alice\nSmith' }, '*'), 422, 'validation-failed');
  });

  it('refuses a JSON body that is not valid UTF-8 with 400, and lone surrogates with 422', async () => {
    // Raw bytes as sent (superagent would serialise a Buffer as JSON).
    const sendRaw = (method: 'post' | 'patch', path: string, bytes: Buffer) =>
      (method === 'post' ? ctx.agent().post(`${API}${path}`) : ctx.agent().patch(`${API}${path}`))
        .set({ Authorization: `Bearer ${admin.token}`, 'If-Match': '*', 'Content-Type': 'application/json' })
        .serialize((body: Buffer) => body as unknown as string)
        .send(bytes as unknown as object);
    const invalid = Buffer.concat([Buffer.from('{"username":"car'), Buffer.from([0xff, 0xfe]), Buffer.from('ol","displayName":"x"}')]);
    const res = await sendRaw('post', '/accounts', invalid);
    expectProblem(res, 400, 'invalid-request');
    expect(res.body.detail).toMatch(/UTF-8/);
    const overlong = Buffer.concat([Buffer.from('{"description":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]);
    expectProblem(await sendRaw('patch', `/accounts/${aliceId}`, overlong), 400, 'invalid-request');
    expect((await sendRaw('patch', `/accounts/${aliceId}`, Buffer.from('{"description":"ok é"}'))).status).toBe(200);
    const surrogate = await admin.post('/accounts').set('Content-Type', 'application/json').send('{"username":"carol","displayName":"\\ud800"}');
    expectProblem(surrogate, 422, 'validation-failed');
    expect(fieldsOf(surrogate)).toEqual(['displayName:unicode']);
    expect((await admin.get('/accounts?search=carol')).body.total).toBe(0);
  });

  it('never answers 5xx to malformed requests on any API route', async () => {
    const hostile = ['%00', '%ff', '%c0%af', '%e2%80%ae', 'x'.repeat(5000), '2147483648', '-1', '1e3', '%27%3b--'];
    const paths: string[] = [];
    for (const value of hostile) {
      paths.push(`/accounts/${value}`, `/accounts/${value}/lockout`, `/services/${value}`, `/tokens/${value}`);
      for (const name of ['search', 'source', 'role', 'state', 'locked', 'offset', 'limit']) paths.push(`/accounts?${name}=${value}`);
      for (const name of ['username', 'event', 'from', 'to']) paths.push(`/audit?${name}=${value}`);
      paths.push(`/tokens?username=${value}`, `/services?enabled=${value}`);
    }
    const bodies: unknown[] = [{ username: '\u0000' }, { displayName: 1 }, [], 'x', { description: '\ud800x' }, { name: 'a\u0000', serviceUrl: 'https://a.test/\u0000' }];
    const writes: [string, string][] = [
      ['post', '/accounts'],
      ['patch', `/accounts/${aliceId}`],
      ['post', `/accounts/${aliceId}/password`],
      ['post', '/services'],
      ['patch', `/services/${serviceId}`],
      ['post', '/tokens'],
      ['post', '/me/password'],
    ];
    const statuses: string[] = [];
    for (const path of paths) {
      const res = await admin.get(path);
      if (res.status >= 500) statuses.push(`GET ${path} → ${res.status} ${res.text.slice(0, 120)}`);
    }
    for (const [method, path] of writes) {
      for (const body of bodies) {
        const req = method === 'patch' ? admin.patch(path, body, '*') : admin.post(path, body);
        const res = await req;
        if (res.status >= 500) statuses.push(`${method} ${path} ${JSON.stringify(body)} → ${res.status} ${res.text.slice(0, 120)}`);
      }
    }
    expect(statuses).toEqual([]);
  });

  it('never answers 5xx to malformed CAS requests (form, REST, validation)', async () => {
    const agent = ctx.agent();
    const hostile = ['%00', 'ST-%00', '%ff', '%c0%af', 'a'.repeat(5000), 'TGT-2147483648'];
    const failures: string[] = [];
    const check = (what: string, status: number, text: string) => {
      if (status >= 500) failures.push(`${what} → ${status} ${text.slice(0, 120)}`);
    };
    for (const value of hostile) {
      for (const path of ['/cas/validate', '/cas/serviceValidate', '/cas/p3/serviceValidate', '/cas/proxyValidate', '/cas/proxy']) {
        const res = await agent.get(`${path}?service=${value}&ticket=${value}&pgt=${value}&targetService=${value}`);
        check(`GET ${path} ${value.slice(0, 20)}`, res.status, res.text);
      }
      const login = await agent.get(`/cas/login?service=${value}`);
      check(`GET /cas/login ${value.slice(0, 20)}`, login.status, login.text);
      const rest = await agent.post('/cas/v1/tickets').type('form').send(`username=${value}&password=${value}`);
      check(`POST /cas/v1/tickets ${value.slice(0, 20)}`, rest.status, rest.text);
      const tgt = await agent.post(`/cas/v1/tickets/${value}`).type('form').send(`service=${value}`);
      check(`POST /cas/v1/tickets/${value.slice(0, 20)}`, tgt.status, tgt.text);
      const del = await agent.delete(`/cas/v1/tickets/${value}`);
      check(`DELETE /cas/v1/tickets/${value.slice(0, 20)}`, del.status, del.text);
    }
    for (const name of ['ali\u0000ce', 'alice\u0001', '\u0000']) {
      const res = await submitLogin(ctx.agent(), name, 'Whatever-Pass-1');
      check(`POST /cas/login ${JSON.stringify(name)}`, res.status, res.text);
    }
    expect(failures).toEqual([]);
  });
});
