import { existsSync } from 'node:fs';
import net from 'node:net';
import { type Browser, type CDPSession, type Page, chromium } from 'playwright-core';
import { type TestContext, createTestContext } from '../support/test-app';

/**
 * Security keys and passkeys in real headless Chromium with its virtual
 * authenticator (DevTools WebAuthn domain: CTAP2, internal transport,
 * resident keys, user verification). The relying party is server.publicUrl,
 * https://localhost:PORT (WebAuthn refuses IP addresses as RP IDs).
 */

const CHROMIUM = process.env.PORTCULLIS_TEST_CHROMIUM ?? '/usr/bin/chromium';
const PASSWORD = 'Correct-Horse-7';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface KeyPage {
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
}

describe('security keys and passkeys in headless Chromium', () => {
  let ctx: TestContext;
  let browser: Browser;
  let base: string;
  const others: TestContext[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: the test command installs Debian's chromium package`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP localhost 127.0.0.1'],
    });
  });
  afterAll(() => browser?.close());
  beforeEach(async () => {
    const port = await freePort();
    base = `https://localhost:${port}`;
    ctx = await createTestContext({ port, fileDatabase: true, overrides: { server: { publicUrl: base }, mfa: { require: 'admins' }, lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 300 } } });
    await ctx.addUser('root', PASSWORD, { role: 'admin' });
    consoleErrors.length = 0;
  });
  afterEach(async () => {
    for (const other of others.splice(0)) await other.close();
    await ctx.close();
  });

  /** A page with a virtual platform authenticator (resident keys, user verification that succeeds). */
  async function keyPage(): Promise<KeyPage> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    return { page, cdp, authenticatorId };
  }

  async function password({ page }: KeyPage): Promise<void> {
    await page.goto(`${base}/cas/login`);
    await page.getByLabel('Username').fill('root');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForLoadState('domcontentloaded');
  }

  /** The administrator's first sign-in: password, then a security key as the first factor. */
  async function enrolKey(keys: KeyPage, name = 'YubiKey'): Promise<void> {
    await password(keys);
    expect(await keys.page.locator('h1').textContent()).toBe('Set up a second factor');
    await keys.page.getByLabel('Name for this key').fill(name);
    await keys.page.getByRole('button', { name: 'Add a security key / passkey' }).click();
    await keys.page.waitForURL(`${base}/cas/mfa/webauthn/enrol`);
    expect(await keys.page.locator('h1').textContent()).toBe('Save your recovery codes');
    expect(await keys.page.locator('ol.codes li').count()).toBe(10);
    await keys.page.getByRole('link', { name: 'Continue' }).click();
    expect(await keys.page.locator('h1').textContent()).toBe('You are logged in');
  }

  async function sessionMethods(page: Page, origin = ctx): Promise<string[] | undefined> {
    const tgc = (await page.context().cookies()).find((c) => c.name === 'TGC');
    return (await origin.services.sessions.find(tgc?.value))?.authentication.methods;
  }

  async function useKey(page: Page): Promise<void> {
    expect(await page.locator('h1').textContent()).toBe('Confirm it is you');
    await page.getByRole('button', { name: 'Use a security key' }).click();
    await page.waitForURL(`${base}/cas/mfa/webauthn`);
  }

  it('enrols a security key as the first factor, then signs in with password and key', async () => {
    const keys = await keyPage();
    await enrolKey(keys);
    const root = await ctx.services.accountService.requireByUsername('root');
    expect((await ctx.services.mfa.list(root.id)).filter((f) => f.kind === 'webauthn').map((f) => f.name)).toEqual(['YubiKey']);
    expect(await sessionMethods(keys.page)).toEqual(['password', 'webauthn']);

    await keys.page.context().clearCookies();
    await password(keys);
    await useKey(keys.page);
    expect(await keys.page.locator('h1').textContent()).toBe('You are logged in');
    expect(await sessionMethods(keys.page)).toEqual(['password', 'webauthn']);
    expect((await ctx.services.audit.query({ username: 'root', event: 'mfa_used' })).total).toBe(1);
    // The relying party is server.publicUrl's host; the key holds a discoverable credential for it.
    const { credentials } = await keys.cdp.send('WebAuthn.getCredentials', { authenticatorId: keys.authenticatorId });
    expect(credentials.map((c) => [c.rpId, c.isResidentCredential])).toEqual([['localhost', true]]);

    // A second key (another authenticator) added from the signed-in session, with its own name.
    await keys.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: keys.authenticatorId });
    await keys.cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: false, automaticPresenceSimulation: true } });
    await keys.page.goto(`${base}/cas/mfa/keys`);
    await keys.page.getByLabel('Name for this key').fill('Spare key');
    await keys.page.getByRole('button', { name: 'Add a security key / passkey' }).click();
    await keys.page.locator('.notice.success').waitFor();
    expect(await keys.page.locator('.notice.success').textContent()).toContain('The security key was added.');
    expect((await ctx.services.mfa.list(root.id)).filter((f) => f.kind === 'webauthn').map((f) => f.name)).toEqual(['YubiKey', 'Spare key']);
    expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });

  it('signs in with a passkey alone (user verified): both factors, no step-up for authn_method=mfa', async () => {
    const keys = await keyPage();
    await enrolKey(keys);
    await keys.page.context().clearCookies();
    await keys.page.goto(`${base}/cas/login`);
    await keys.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await keys.page.waitForURL(`${base}/cas/login/passkey`);
    expect(await keys.page.locator('h1').textContent()).toBe('You are logged in');
    expect(await sessionMethods(keys.page)).toEqual(['passkey']);
    await keys.page.goto(`${base}/cas/login?authn_method=mfa`);
    expect(await keys.page.locator('h1').textContent()).toBe('You are logged in');
  });

  it('refuses a passkey answer without user verification (the server requires it, not only the browser)', async () => {
    const keys = await keyPage();
    await enrolKey(keys);
    await keys.cdp.send('WebAuthn.setUserVerified', { authenticatorId: keys.authenticatorId, isUserVerified: false });
    // A client that does not ask for verification: the options are altered on their way to the browser.
    await keys.page.route(`${base}/cas/webauthn/options`, async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, body: (await response.text()).replace('"userVerification":"required"', '"userVerification":"discouraged"') });
    });
    await keys.page.context().clearCookies();
    await keys.page.goto(`${base}/cas/login`);
    await keys.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await keys.page.waitForURL(`${base}/cas/login/passkey`);
    expect(await keys.page.getByRole('alert').textContent()).toContain('That passkey was not accepted');
    expect(await sessionMethods(keys.page)).toBeUndefined();
  });

  it('refuses a cloned authenticator (signature counter went backwards), audits it, and counts it toward the lockout', async () => {
    const keys = await keyPage();
    await enrolKey(keys);
    const { credentials } = await keys.cdp.send('WebAuthn.getCredentials', { authenticatorId: keys.authenticatorId });
    const original = credentials[0];
    await keys.page.context().clearCookies();
    await password(keys);
    await useKey(keys.page);
    expect(await keys.page.locator('h1').textContent()).toBe('You are logged in');

    // A copy of the key made before that sign-in: same private key, the counter it had then.
    const clone = await keyPage();
    await clone.cdp.send('WebAuthn.addCredential', { authenticatorId: clone.authenticatorId, credential: { ...original, signCount: original.signCount } });
    await password(clone);
    await useKey(clone.page);
    expect(await clone.page.getByRole('alert').textContent()).toContain('That security key was not accepted');
    expect(await sessionMethods(clone.page)).toBeUndefined();
    expect((await ctx.services.audit.query({ username: 'root', event: 'webauthn_clone_suspected' })).total).toBe(1);
    expect((await ctx.services.lockouts.get('root')).failureCount).toBe(1);
  });

  it('lets a second instance (same database and public URL) finish a ceremony the first began', async () => {
    const keys = await keyPage();
    await enrolKey(keys);
    const second = await createTestContext({ shareDatabaseWith: ctx, clock: ctx.clock, overrides: { server: { publicUrl: base }, mfa: { require: 'admins' } } });
    others.push(second);
    // The load balancer sends the key's answer to the other instance: the challenge was issued by this one.
    const served: number[] = [];
    await keys.page.route(`${base}/cas/mfa/webauthn`, async (route) => {
      const response = await route.fetch({ url: `${second.url}/cas/mfa/webauthn` });
      served.push(response.status());
      await route.fulfill({ response });
    });
    await keys.page.context().clearCookies();
    await password(keys);
    await useKey(keys.page);
    expect(served).toEqual([200]);
    expect(await keys.page.locator('h1').textContent()).toBe('You are logged in');
    expect(await sessionMethods(keys.page, second)).toEqual(['password', 'webauthn']);
  });
});
