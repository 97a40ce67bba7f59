import type { Browser, Page } from 'playwright-core';
import { type TestContext, createTestContext } from '../support/test-app';
import { type AxeFinding, englishLeftOn, launchChromium, newContext, screenshot, seriousViolations } from './browser-kit';

const notice = { version: '2026-04', text: { en: 'Use this system for work only.\n\nActivity is logged.', ja: '業務目的でのみ利用してください。\n\n操作は記録されます。' } };

describe('every page in both languages and both colour schemes (axe-core in Chromium)', () => {
  let ctx: TestContext;
  let browser: Browser;
  const findings: { where: string; violations: AxeFinding[] }[] = [];
  const english: { where: string; keys: string[] }[] = [];
  const visited: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 300 }, ui: { notice } } });
    await ctx.addUser('root', 'Granite-Osprey-71', { role: 'admin' });
    await ctx.services.serviceRegistry.create({ name: 'portal', serviceUrl: 'https://app.example.test/portal/**', evaluationOrder: 5 });
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  async function check(page: Page, combo: { lang: 'en' | 'ja'; scheme: 'light' | 'dark' }, name: string): Promise<void> {
    const where = `${name} (${combo.lang}, ${combo.scheme})`;
    visited.push(where);
    expect(await page.getAttribute('html', 'lang')).toBe(combo.lang);
    findings.push({ where, violations: await seriousViolations(page) });
    if (combo.lang === 'ja') english.push({ where, keys: await englishLeftOn(page) });
    if ((combo.lang === 'en' && combo.scheme === 'light') || (combo.lang === 'ja' && combo.scheme === 'dark')) await screenshot(page, `${name}-${combo.lang}-${combo.scheme}`);
  }

  async function signIn(page: Page, username: string, password: string): Promise<void> {
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
    await page.waitForLoadState('domcontentloaded');
  }

  it.each([
    { lang: 'en' as const, scheme: 'light' as const },
    { lang: 'en' as const, scheme: 'dark' as const },
    { lang: 'ja' as const, scheme: 'light' as const },
    { lang: 'ja' as const, scheme: 'dark' as const },
  ])('$lang, $scheme', async (combo) => {
    const suffix = `${combo.lang}-${combo.scheme}`;
    await ctx.addUser(`fresh-${suffix}`, 'Willow-Beacon-64', { mustChangePassword: true });
    await ctx.addUser(`lockme-${suffix}`, 'Cobalt-Finch-18');
    const context = await newContext(browser, { lang: combo.lang });
    const page = await context.newPage();
    await page.emulateMedia({ colorScheme: combo.scheme });

    await page.goto(`${ctx.url}/cas/login`);
    await check(page, combo, 'login');
    if (combo.lang === 'ja') {
      // The switcher overrides Accept-Language (a cookie), and switches back.
      await page.click('a[hreflang=en]');
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      expect(await page.textContent('h1')).toBe('Sign in');
      await page.click('a[hreflang=ja]');
      expect(await page.textContent('h1')).toBe('ログイン');
    }
    await signIn(page, `fresh-${suffix}`, 'wrong-password-1');
    await check(page, combo, 'login-failed');
    for (let i = 0; i < 3; i++) await signIn(page, `lockme-${suffix}`, `wrong-password-${i}`);
    await check(page, combo, 'login-locked');
    await signIn(page, `fresh-${suffix}`, 'Willow-Beacon-64');
    await check(page, combo, 'password-change');
    await page.fill('#password', 'Quartz-Lagoon-83');
    await page.fill('#confirm', 'Quartz-Lagoon-83');
    await page.click('button[type=submit]');
    await check(page, combo, 'notice');
    await page.click('button[value=accept]');
    await check(page, combo, 'logged-in');
    await page.click('a[href="/cas/logout"]');
    await check(page, combo, 'logged-out');
    await page.goto(`${ctx.url}/nowhere`);
    await check(page, combo, 'not-found');

    await page.goto(`${ctx.url}/admin`);
    await signIn(page, 'root', 'Granite-Osprey-71');
    if (await page.isVisible('button[value=accept]')) await page.click('button[value=accept]');
    await page.waitForURL(`${ctx.url}/admin`);
    await check(page, combo, 'console-dashboard');
    const fresh = await ctx.services.accountService.requireByUsername(`fresh-${suffix}`);
    const service = (await ctx.services.serviceRegistry.findByName('portal'))!;
    for (const [name, path] of [
      ['console-accounts', '/admin/accounts'],
      ['console-account', `/admin/accounts/${fresh.id}`],
      ['console-account-create', '/admin/accounts/new'],
      ['console-services', `/admin/services?test=${encodeURIComponent('https://app.example.test/portal/home')}`],
      ['console-service', `/admin/services/${service.id}`],
      ['console-audit', '/admin/audit'],
      ['console-policy', '/admin/policy'],
    ]) {
      await page.goto(`${ctx.url}${path}`);
      await check(page, combo, name);
    }
    // A sensitive action after 5 minutes asks for the password again.
    ctx.clock.advance(6 * 60_000);
    await page.goto(`${ctx.url}/admin/accounts/${fresh.id}`);
    await page.check('#confirm');
    await page.click('button.danger');
    await page.waitForSelector('form[action="/admin/reauthenticate"]');
    await check(page, combo, 'console-reauth');
    await context.close();
    const mine = (where: string) => where.endsWith(`(${combo.lang}, ${combo.scheme})`);
    expect(visited.filter(mine)).toHaveLength(17);
    // No serious or critical accessibility violation, and no English text left on a Japanese page.
    expect(findings.filter((f) => mine(f.where) && f.violations.length > 0)).toEqual([]);
    expect(english.filter((e) => mine(e.where) && e.keys.length > 0)).toEqual([]);
  });
});
