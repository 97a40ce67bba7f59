import { ConflictError, InputError, NotFoundError } from '../../src/shared/errors';
import { runInProcess, testCliContext } from '../support/cli';
import { type TestContext, createTestContext } from '../support/test-app';
import { registerService } from '../support/cas-helpers';

/** The registered-service store: URL pattern syntax, matching order, validation, and the `portcullis service` CLI. */

describe('CAS service registry', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
  });
  afterEach(() => ctx.close());

  const matchName = async (url: string) => (await ctx.services.serviceRegistry.match(url))?.name ?? null;

  it('patterns: wildcards only after the host, * within a segment, ** across segments and query, anchored at both ends', async () => {
    await registerService(ctx, { name: 'deep', serviceUrl: 'https://app.example.org/portal/**' });
    await registerService(ctx, { name: 'one-segment', serviceUrl: 'https://app.example.org/api/*/login' });
    expect(await matchName('https://app.example.org/portal/')).toBe('deep');
    expect(await matchName('https://app.example.org/portal/a/b?x=1&y=/z')).toBe('deep');
    expect(await matchName('https://app.example.org/api/v2/login')).toBe('one-segment');
    for (const url of [
      'https://app.example.org/api/v2/x/login',
      'https://app.example.org/api/v2?/login',
      'https://app.example.org/api/v2/login/extra',
      'https://app.example.org.evil.test/portal/',
      'https://app.example.org:8443/portal/',
      'http://app.example.org/portal/',
      'https://evil.test/https://app.example.org/portal/',
      'https://app.example.org@evil.test/portal/',
      'https://app.example.org/portal/\\evil',
      'https://app.example.org/portal/ x',
    ]) {
      expect([url, await matchName(url)]).toEqual([url, null]);
    }
  });

  it('exact URLs match exactly and win over patterns; patterns are tried in evaluation order; disabled services never match', async () => {
    await registerService(ctx, { name: 'broad', serviceUrl: 'https://app.example.org/**', evaluationOrder: 10 });
    await registerService(ctx, { name: 'narrow', serviceUrl: 'https://app.example.org/admin/**', evaluationOrder: 1 });
    await registerService(ctx, { name: 'exact', serviceUrl: 'https://app.example.org/admin/login' });
    await registerService(ctx, { name: 'off', serviceUrl: 'https://off.example.org/', enabled: false });
    expect(await matchName('https://app.example.org/admin/login')).toBe('exact');
    expect(await matchName('https://app.example.org/admin/login?x')).toBe('narrow');
    expect(await matchName('https://app.example.org/home')).toBe('broad');
    expect(await matchName('https://off.example.org/')).toBeNull();
  });

  it('refuses unsafe or malformed records with per-field problems', async () => {
    const bad: [string, Record<string, unknown>][] = [
      ['serviceUrl', { serviceUrl: 'https://*.example.org/' }],
      ['serviceUrl', { serviceUrl: 'https://app.example.org*' }],
      ['serviceUrl', { serviceUrl: 'https://app.example.org/***' }],
      ['serviceUrl', { serviceUrl: 'javascript:alert(1)//' }],
      ['serviceUrl', { serviceUrl: 'https://user:pw@app.example.org/' }],
      ['proxyCallback', { serviceUrl: 'https://app.example.org/', proxyCallback: 'http://app.example.org/pgt' }],
      ['releasedAttributes', { serviceUrl: 'https://app.example.org/', releasedAttributes: ['mail', 'bad name'] }],
      ['releasedAttributes', { serviceUrl: 'https://app.example.org/', releasedAttributes: ['cas:user'] }],
      ['logoutUrl', { serviceUrl: 'https://app.example.org/', logoutUrl: 'file:///etc/passwd' }],
      ['name', { name: '', serviceUrl: 'https://app.example.org/' }],
    ];
    for (const [field, input] of bad) {
      const error = await ctx.services.serviceRegistry.create({ name: 'x', serviceUrl: '', ...input } as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).fields.map((f) => f.field)).toContain(field);
    }
    expect(await ctx.services.serviceRegistry.list()).toEqual([]);
  });

  it('names are unique; updates are optimistic (version) and take effect for matching at once', async () => {
    const created = await registerService(ctx, { name: 'app', serviceUrl: 'https://app.example.org/' });
    await expect(registerService(ctx, { name: 'app', serviceUrl: 'https://other.example.org/' })).rejects.toBeInstanceOf(ConflictError);
    const updated = await ctx.services.serviceRegistry.update(created.id, { serviceUrl: 'https://app.example.org/v2' }, created.version);
    expect(updated.version).toBe(created.version + 1);
    await expect(ctx.services.serviceRegistry.update(created.id, { description: 'stale' }, created.version)).rejects.toBeInstanceOf(ConflictError);
    await expect(ctx.services.serviceRegistry.update(9999, { description: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    expect(await matchName('https://app.example.org/')).toBeNull();
    expect(await matchName('https://app.example.org/v2')).toBe('app');
  });

  it('CLI: service add, list, update, show, remove', async () => {
    const lines: string[] = [];
    const io = { out: (text: string) => lines.push(...text.trimEnd().split('\n')), err: () => undefined, interactive: false };
    const run = (args: string[]) => runInProcess(['service', ...args], testCliContext({}, io, ctx.services));
    await run(['add', 'MA4000', '--url', 'https://ma4000.example.org/**', '--attributes', 'displayName, mail', '--logout-url', 'https://ma4000.example.org/slo', '--order', '5']);
    await run(['add', 'Portal', '--url=https://portal.example.org/', '--proxy-callback', 'https://portal.example.org/pgt/*', '--no-single-logout']);
    await expect(run(['add', 'Bad', '--url', 'https://*.example.org/'])).rejects.toThrow(/wildcards only in the path/);
    await expect(run(['add', 'NoUrl'])).rejects.toThrow(/--url is required/);
    await expect(run(['remove', 'Nope'])).rejects.toBeInstanceOf(NotFoundError);
    lines.length = 0;
    await run(['list']);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('Portal\thttps://portal.example.org/\tenabled\torder=0');
    expect(lines[0]).toContain('single-logout=off');
    expect(lines[1]).toContain('MA4000\thttps://ma4000.example.org/**\tenabled\torder=5\tattributes=displayName,mail');
    expect(lines[1]).toContain('single-logout=https://ma4000.example.org/slo');
    lines.length = 0;
    await run(['update', 'Portal', '--disable', '--order', '7', '--proxy-callback', '', '--name', 'Portal2']);
    expect(lines[0]).toMatch(/^updated Portal2\thttps:\/\/portal\.example\.org\/\tdisabled\torder=7\t.*proxy-callback=-/);
    await expect(run(['update', 'Portal2'])).rejects.toThrow(/nothing to change/);
    await expect(run(['update', 'Portal2', '--enable', '--disable'])).rejects.toThrow(/contradict/);
    lines.length = 0;
    await run(['show', 'Portal2']);
    expect(lines).toEqual(expect.arrayContaining(['name: Portal2', 'enabled: false', 'evaluationOrder: 7', 'proxyCallback: -', 'logoutType: none']));
    await run(['remove', 'Portal2']);
    expect((await ctx.services.serviceRegistry.list()).map((s) => s.name)).toEqual(['MA4000']);
  });
});
