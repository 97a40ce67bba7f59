import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { launchChromium, newContext, screenshot } from './browser-kit';

const APP = 'https://app.example.test/portal/home';

describe('admin console in headless Chromium', () => {
  let ctx: TestContext;
  let browser: Browser;
  const cspErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 300 } } });
    await ctx.addUser('root', 'Granite-Osprey-71', { role: 'admin' });
    cspErrors.length = 0;
  });
  afterEach(() => ctx.close());

  async function signInToConsole(options: { javaScript?: boolean } = {}): Promise<Page> {
    const context = await newContext(browser, options);
    const page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && /Content Security Policy/i.test(m.text()) && cspErrors.push(m.text()));
    await page.goto(`${ctx.url}/admin`);
    expect(new URL(page.url()).pathname).toBe('/cas/login');
    await page.getByLabel('Username').fill('root');
    await page.getByLabel('Password', { exact: true }).fill('Granite-Osprey-71');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${ctx.url}/admin`);
    expect(await page.locator('h1').textContent()).toBe('Dashboard');
    return page;
  }

  it('does the everyday jobs: create a user, third-administrator refusal, unlock, register and test a service, filter and export the audit log; the new user signs in to the service', async () => {
    await ctx.addUser('second', 'Basalt-Heron-52', { role: 'admin' });
    await ctx.addUser('locked1', 'Cobalt-Finch-18');
    for (let i = 0; i < 3; i++) await submitLogin(ctx.agent(), 'locked1', `wrong-password-${i}`);
    const page = await signInToConsole();
    await screenshot(page, 'journey-dashboard');

    await page.getByRole('navigation', { name: 'Console sections' }).getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('link', { name: 'Create account' }).click();
    await page.getByLabel('Username').fill('kenji');
    await page.getByLabel('Display name').fill('Kenji Sato');
    await page.getByLabel('Initial password').fill('kenji');
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await page.locator('.field-errors').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('It must not contain the username.')]));
    await screenshot(page, 'journey-create-refused');
    await page.getByLabel('Initial password').fill('Maple-Harbor-29');
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await page.getByRole('status').first().textContent()).toContain('The account was created.');
    expect(await page.locator('h1').textContent()).toBe('Account kenji');

    await page.goto(`${ctx.url}/admin/accounts/new`);
    await page.getByLabel('Username').fill('third');
    await page.getByLabel('Role').selectOption('admin');
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await page.locator('#role-errors').textContent()).toContain('There are already 2 administrators, the most MaxAdministratorCount allows.');
    await screenshot(page, 'journey-third-admin-refused');

    await page.goto(`${ctx.url}/admin/accounts?locked=true`);
    await page.getByRole('link', { name: 'locked1' }).click();
    await page.getByRole('button', { name: 'Unlock' }).click();
    expect(await page.getByRole('status').first().textContent()).toContain('The account was unlocked.');

    await page.getByRole('link', { name: 'Services' }).click();
    await page.getByRole('link', { name: 'Register a service' }).click();
    await page.getByLabel('Name').fill('portal');
    await page.getByLabel('Service URL').fill('https://app.example.test/portal/**');
    await page.getByRole('button', { name: 'Save' }).click();
    expect(await page.getByRole('status').first().textContent()).toContain('The service was registered.');
    await page.getByRole('link', { name: 'Services' }).click();
    await page.getByLabel('Application URL').fill(APP);
    await page.getByRole('button', { name: 'Test' }).click();
    expect(await page.locator('#test-result').textContent()).toContain('Matches the pattern of portal');
    await screenshot(page, 'journey-url-tester');

    await page.getByRole('link', { name: 'Audit log' }).click();
    // The filter offers events by name; the page sends the code the log stores.
    await page.getByLabel('Event').selectOption({ label: 'Account created' });
    await page.getByRole('button', { name: 'Filter' }).click();
    expect(await page.locator('tbody').textContent()).toContain('kenji');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download as CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toContain('"account_created","success","kenji","root"');
    expect(csv).not.toContain('"service_created"');

    // The new user signs in to the registered application (changing the initial password first).
    const userContext = await newContext(browser);
    await userContext.route('https://app.example.test/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!DOCTYPE html><title>Portal</title><p>portal</p>' }));
    const user = await userContext.newPage();
    await user.goto(`${ctx.url}/cas/login?service=${encodeURIComponent(APP)}`);
    await user.getByLabel('Username').fill('kenji');
    await user.getByLabel('Password', { exact: true }).fill('Maple-Harbor-29');
    await user.getByRole('button', { name: 'Sign in', exact: true }).click();
    await user.getByLabel('New password', { exact: true }).fill('Quartz-Lagoon-83');
    await user.getByLabel('Repeat new password').fill('Quartz-Lagoon-83');
    await user.getByRole('button', { name: 'Change password' }).click();
    await user.waitForURL(/^https:\/\/app\.example\.test\/portal\/home\?ticket=ST-/);
    const ticket = new URL(user.url()).searchParams.get('ticket')!;
    const validation = await ctx.agent().get(`/cas/p3/serviceValidate?service=${encodeURIComponent(APP)}&ticket=${ticket}`);
    expect(validation.text).toContain('<cas:user>kenji</cas:user>');
    expect(cspErrors).toEqual([]);
  });

  it('creates an account with JavaScript disabled', async () => {
    const page = await signInToConsole({ javaScript: false });
    await page.goto(`${ctx.url}/admin/accounts/new`);
    await page.getByLabel('Username').fill('nojs');
    await page.getByLabel('Initial password').fill('Linden-Comet-47');
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await page.locator('h1').textContent()).toBe('Account nojs');
    expect((await ctx.services.accountService.requireByUsername('nojs')).mustChangePassword).toBe(true);
  });
});
