import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { type TestContext, createTestContext } from '../support/test-app';

const CHROMIUM = process.env.PORTCULLIS_TEST_CHROMIUM ?? '/usr/bin/chromium';

describe('login page in headless Chromium', () => {
  let ctx: TestContext;
  let browser: Browser;
  let bootstrapPassword: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: the test command installs Debian's chromium package`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(() => browser?.close());
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 300 } } });
    bootstrapPassword = (await ctx.services.accountService.ensureBootstrapAdministrator())!.password;
    consoleErrors.length = 0;
  });
  afterEach(() => ctx.close());

  async function newPage() {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    await page.goto(`${ctx.url}/cas/login`);
    return page;
  }

  async function signIn(page: Awaited<ReturnType<typeof newPage>>, username: string, password: string) {
    // Labels are wired to their inputs: a screen reader (and playwright) finds the fields by label text.
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForLoadState('domcontentloaded');
  }

  it('shows the error for a wrong password, then the lockout, then lets the bootstrap admin change the one-time password', async () => {
    const page = await newPage();
    expect(await page.title()).toBe('Sign in · Portcullis');

    await signIn(page, 'admin', 'not-the-password-1');
    expect(await page.getByRole('alert').textContent()).toContain('Invalid username or password.');
    expect(await page.getByLabel('Username').inputValue()).toBe('admin');

    await signIn(page, 'admin', 'not-the-password-2');
    await signIn(page, 'admin', 'not-the-password-3');
    await signIn(page, 'admin', bootstrapPassword);
    expect(await page.getByRole('alert').textContent()).toContain('temporarily locked');
    await page.screenshot({ path: path.join(os.tmpdir(), 'portcullis-locked.png') });

    ctx.clock.advance(301_000);
    await signIn(page, 'admin', bootstrapPassword);
    expect(await page.locator('h1').textContent()).toBe('Change your password');
    await page.getByLabel('New password', { exact: true }).fill('admin');
    await page.getByLabel('Repeat new password').fill('admin');
    await page.getByRole('button', { name: 'Change password' }).click();
    const refusal = await page.getByRole('alert').textContent();
    expect(refusal).toContain('must be at least 8 characters long');
    expect(refusal).toContain('must not contain the username');

    await page.getByLabel('New password', { exact: true }).fill('Violet-Harbour-58');
    await page.getByLabel('Repeat new password').fill('Violet-Harbour-58');
    await page.getByRole('button', { name: 'Change password' }).click();
    expect(await page.locator('h1').textContent()).toBe('You are logged in');
    await page.screenshot({ path: path.join(os.tmpdir(), 'portcullis-logged-in.png') });

    // The TGC cookie is HttpOnly and Secure: scripts cannot read it.
    const cookies = await page.context().cookies();
    const tgc = cookies.find((c) => c.name === 'TGC');
    expect(tgc).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/cas' });
    expect(await page.evaluate<string>('document.cookie')).not.toContain('TGC');

    await page.goto(`${ctx.url}/cas/login`);
    expect(await page.locator('h1').textContent()).toBe('You are logged in');
    await page.getByRole('link', { name: 'Sign out' }).click();
    expect(await page.locator('h1').textContent()).toBe('You are logged out');
    // No inline script or style was blocked by the CSP (nothing on the pages needs one).
    expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });
});
