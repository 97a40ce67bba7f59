import { loadConfig } from '../../src/config/load';
import { WebUi } from '../../src/web/ui';
import { type TestContext, createTestContext } from '../support/test-app';

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#7a1f5c"/></svg>';

describe('branding (ui config)', () => {
  let ctx: TestContext;
  afterEach(() => ctx?.close());

  it('shows the product name, logo (long cache), colour stylesheet, help text and a service display name per language', async () => {
    ctx = await createTestContext({
      files: { 'logo.svg': SVG, 'ma4000.svg': SVG.replace('#7a1f5c', '#004b87') },
      overrides: {
        ui: {
          productName: 'MA4000 Sign-in',
          logoFile: 'logo.svg',
          primaryColor: '#7a1f5c',
          helpText: { en: 'Trouble signing in? Call the service desk on 1234.', ja: 'ログインできない場合はサービスデスク(内線 1234)へ。' },
          helpUrl: 'mailto:desk@example.org',
          services: { ma4000: { displayName: { en: 'MA4000 Management', ja: 'MA4000 管理' }, logoFile: 'ma4000.svg' } },
        },
      },
    });
    await ctx.services.serviceRegistry.create({ name: 'ma4000', serviceUrl: 'https://ma4000.example.org/**' });
    const agent = ctx.agent();
    const page = await agent.get(`/cas/login?service=${encodeURIComponent('https://ma4000.example.org/app')}`);
    expect(page.text).toContain('<title>Sign in · MA4000 Sign-in</title>');
    expect(page.text).toContain('<h1>Sign in to MA4000 Management</h1>');
    expect(page.text).toContain('Trouble signing in? Call the service desk on 1234.');
    expect(page.text).toContain('href="mailto:desk@example.org"');
    const logoUrl = /<img src="(\/ui\/logo-[0-9a-f]{12}\.svg)"/.exec(page.text)![1];
    const themeUrl = /<link rel="stylesheet" href="(\/ui\/theme-[0-9a-f]{12}\.css)">/.exec(page.text)![1];
    const logo = await agent.get(logoUrl);
    expect(logo.headers['content-type']).toBe('image/svg+xml');
    expect(logo.body.toString()).toBe(SVG);
    expect(logo.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await agent.get(themeUrl)).text).toContain('--accent: #7a1f5c');
    const serviceLogo = /<p class="service-logo"><img src="(\/ui\/logo-[0-9a-f]{12}\.svg)"/.exec(page.text)![1];
    expect(serviceLogo).not.toBe(logoUrl);
    expect((await agent.get(serviceLogo)).body.toString()).toContain('#004b87');
    // Without a service (or for one ui.services does not name) the page has the plain heading.
    expect((await agent.get('/cas/login')).text).toContain('<h1>Sign in</h1>');

    const ja = await agent.get(`/cas/login?service=${encodeURIComponent('https://ma4000.example.org/app')}`).set('Accept-Language', 'ja');
    expect(ja.text).toContain('<h1>MA4000 管理 にログイン</h1>');
    expect(ja.text).toContain('ログインできない場合はサービスデスク');
  });

  it('stops the start when a configured logo cannot be read, naming the key and the file', () => {
    const { config } = loadConfig({ configDir: '/nonexistent', env: {}, overrides: { ui: { services: { app: { displayName: 'App', logoFile: 'missing.png' } } } } });
    expect(() => new WebUi(config.ui, '/nonexistent')).toThrow(/ui\.services\.app\.logoFile .*missing\.png cannot be read/);
  });

  it('refuses a primary colour that fails WCAG AA contrast with white, naming the key and the ratio', () => {
    expect(() => loadConfig({ configDir: '/nonexistent', env: {}, overrides: { ui: { primaryColor: '#6cb0ff' } } })).toThrow(/ui\.primaryColor.*2\.\d\d:1; WCAG AA needs 4\.5:1/s);
    expect(() => loadConfig({ configDir: '/nonexistent', env: {}, overrides: { ui: { primaryColor: '#0b5cad' } } })).not.toThrow();
  });
});
