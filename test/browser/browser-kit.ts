import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { CATALOGUES } from '../../src/web/i18n';

/** Debian's Chromium, driven by playwright-core (the test command installs the package). */
export const CHROMIUM = process.env.PORTCULLIS_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Where the browser tests leave their screenshots (gitignored; named in the README). */
export const SCREENSHOT_DIR = path.join(__dirname, '..', '..', 'test-output', 'screenshots');
export const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: the test command installs Debian's chromium package`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function newContext(browser: Browser, options: { lang?: 'en' | 'ja'; javaScript?: boolean } = {}): Promise<BrowserContext> {
  return browser.newContext({
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    javaScriptEnabled: options.javaScript ?? true,
    extraHTTPHeaders: { 'Accept-Language': options.lang === 'ja' ? 'ja-JP,ja;q=0.9' : 'en-GB,en;q=0.9' },
  });
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * axe-core's serious and critical violations on the current page. The
 * script is evaluated through the DevTools protocol, so the pages' strict
 * CSP (no inline script) stays in force and is not bypassed for the test.
 */
export async function seriousViolations(page: Page): Promise<AxeFinding[]> {
  await page.evaluate(AXE_SOURCE);
  type Finding = AxeFinding;
  const violations = await page.evaluate<Finding[]>(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => String(n.target)) })))`);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * English catalogue texts visible on a Japanese page. Placeholder-free
 * messages of at least two words (single words such as a role name could be
 * user data); elements marked lang="en" (the switcher's "English") are skipped.
 */
export async function englishLeftOn(page: Page): Promise<string[]> {
  const text = await page.evaluate<string>(`(() => {
    const clone = document.body.cloneNode(true);
    for (const el of clone.querySelectorAll('[lang="en"]')) el.remove();
    document.body.append(clone);
    const text = clone.innerText;
    clone.remove();
    return text;
  })()`);
  const english = Object.entries(CATALOGUES.en).filter(([key, value]) => !/\{\w+\}/.test(value) && /\w+\s+\w+/.test(value) && CATALOGUES.ja[key as keyof typeof CATALOGUES.ja] !== value);
  return english.filter(([, value]) => text.includes(value)).map(([key]) => key);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const original = page.viewportSize();
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${viewport.name}.png`), fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}
