import { type SafeHtml, html } from './html';
import { LANGUAGES, type Language, type Translator, isMessageKey } from './i18n';
import type { PasswordViolation } from '../policy/password-policy';

export type Notice = { kind: 'error' | 'info' | 'success'; text: string; items?: string[] };

/** What every page needs besides its own model: the language and the site's branding. */
export interface Page {
  tr: Translator;
  productName: string;
  /** This page's local URL, for the language switcher to come back to. */
  here: string;
  /** Logo URL (served by Portcullis), when configured. */
  logoUrl?: string;
  /** Stylesheet with the configured primary colour. */
  themeUrl?: string;
  helpText?: string;
  helpUrl?: string;
}

const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', ja: '日本語' };

/** Links to the other languages; each name is written in its own language. */
export function languageSwitcher(page: Page): SafeHtml {
  return html`<nav class="languages" aria-label="${page.tr.t('layout.language')}"><ul>${LANGUAGES.map((lang) =>
    lang === page.tr.lang
      ? html`<li><span aria-current="true" lang="${lang}">${LANGUAGE_NAMES[lang]}</span></li>`
      : html`<li><a href="/language?lang=${lang}&amp;return=${encodeURIComponent(page.here)}" lang="${lang}" hreflang="${lang}">${LANGUAGE_NAMES[lang]}</a></li>`,
  )}</ul></nav>`;
}

function help(page: Page): SafeHtml | null {
  if (!page.helpText && !page.helpUrl) return null;
  return html`<p class="hint help">${page.helpText ?? ''} ${page.helpUrl ? html`<a href="${page.helpUrl}">${page.tr.t('layout.help')}</a>` : null}</p>`;
}

function brand(page: Page): SafeHtml {
  return html`<p class="brand">${page.logoUrl ? html`<img src="${page.logoUrl}" alt="" class="logo"> ` : null}<span>${page.productName}</span></p>`;
}

export function layout(page: Page, title: string, body: SafeHtml): string {
  return `<!DOCTYPE html>\n${html`<html lang="${page.tr.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · ${page.productName}</title>
<link rel="stylesheet" href="/cas/static/portcullis.css">
${page.themeUrl ? html`<link rel="stylesheet" href="${page.themeUrl}">` : null}
</head>
<body>
<main class="card">
<header>${brand(page)}</header>
${body}
${help(page)}
<footer>${languageSwitcher(page)}</footer>
</main>
</body>
</html>`.value}\n`;
}

export function notice(n: Notice | undefined): SafeHtml | null {
  if (!n) return null;
  const role = n.kind === 'error' ? 'alert' : 'status';
  return html`<div class="notice ${n.kind}" role="${role}" id="notice"><p>${n.text}</p>${
    n.items && n.items.length > 0 ? html`<ul>${n.items.map((item) => html`<li>${item}</li>`)}</ul>` : null
  }</div>`;
}

/** A broken rule as services report it (PolicyError, PasswordPolicy). */
type Violation = Omit<PasswordViolation, 'rule' | 'unit'> & { rule: string; unit?: string };

/** Each broken password rule in the page's language. */
export function violationTexts(tr: Translator, violations: readonly Violation[]): string[] {
  return violations.map((v) => {
    const key = v.rule === 'max_length' && v.unit === 'bytes' ? 'policy.max_bytes' : `policy.${v.rule}`;
    return isMessageKey(key) ? tr.t(key, { limit: v.limit ?? '', message: v.message }) : v.message;
  });
}

export interface LoginPageModel {
  execution: string;
  service?: string;
  /** The registered service's display name ("Sign in to …") and logo, from `ui.services`. */
  serviceBrand?: { name: string; logoUrl?: string };
  renew?: boolean;
  method?: string;
  username?: string;
  notice?: Notice;
  /** "Sign in with a passkey" (src/web/webauthn-views.ts), under the form. */
  passkey?: SafeHtml;
}

/** The service request rides in the form's URL as on Apereo's login page (tools written for it post there), and in hidden fields for those that read the form. */
function loginAction(m: LoginPageModel): string {
  const query = new URLSearchParams();
  if (m.service !== undefined) query.set('service', m.service);
  if (m.renew) query.set('renew', 'true');
  if (m.method) query.set('method', m.method);
  const encoded = query.toString();
  return encoded ? `/cas/login?${encoded}` : '/cas/login';
}

export function loginPage(page: Page, m: LoginPageModel): string {
  const { t } = page.tr;
  const described = m.notice ? 'notice' : undefined;
  return layout(
    page,
    t('login.title'),
    html`${m.serviceBrand?.logoUrl ? html`<p class="service-logo"><img src="${m.serviceBrand.logoUrl}" alt=""></p>` : null}
<h1>${m.serviceBrand ? t('login.headingService', { service: m.serviceBrand.name }) : t('login.heading')}</h1>
${notice(m.notice)}
<form method="post" action="${loginAction(m)}" autocomplete="on" novalidate>
  <label for="username">${t('login.username')}</label>
  <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="256" value="${m.username ?? ''}" ${described ? html`aria-describedby="${described}"` : null} ${m.username ? null : html`autofocus`}>
  <label for="password">${t('login.password')}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required ${m.username ? html`autofocus` : null}>
  <input type="hidden" name="execution" value="${m.execution}">
  <input type="hidden" name="_eventId" value="submit">
  ${m.service !== undefined ? html`<input type="hidden" name="service" value="${m.service}">` : null}
  ${m.renew ? html`<input type="hidden" name="renew" value="true">` : null}
  ${m.method ? html`<input type="hidden" name="method" value="${m.method}">` : null}
  <button type="submit">${t('login.submit')}</button>
</form>
${m.passkey ?? null}
<p class="hint">${t('login.hint')}</p>`,
  );
}

export function loggedInPage(page: Page, username: string, consoleUrl?: string): string {
  const { t } = page.tr;
  return layout(
    page,
    t('loggedIn.title'),
    html`<h1>${t('loggedIn.heading')}</h1>
<div class="notice success" role="status"><p>${page.tr.h('loggedIn.text', { username: html`<strong>${username}</strong>` })}</p></div>
<p class="actions">${consoleUrl ? html`<a class="button" href="${consoleUrl}">${t('loggedIn.console')}</a> ` : null}<a class="button" href="/cas/logout">${t('loggedIn.signOut')}</a></p>`,
  );
}

export function loggedOutPage(page: Page): string {
  const { t } = page.tr;
  return layout(
    page,
    t('loggedOut.title'),
    html`<h1>${t('loggedOut.heading')}</h1>
<div class="notice info" role="status"><p>${t('loggedOut.text')}</p></div>
<p><a class="button" href="/cas/login">${t('loggedOut.signInAgain')}</a></p>`,
  );
}

export interface ChangePasswordModel {
  token: string;
  username: string;
  reason: 'initial' | 'expired';
  minLength: number;
  notice?: Notice;
}

export function changePasswordPage(page: Page, m: ChangePasswordModel): string {
  const { t } = page.tr;
  const why = m.reason === 'expired' ? t('password.expired') : t('password.initial');
  return layout(
    page,
    t('password.title'),
    html`<h1>${t('password.heading')}</h1>
${notice(m.notice ?? { kind: 'info', text: why })}
<form method="post" action="/cas/password" novalidate>
  <p>${t('password.account')} <strong>${m.username}</strong></p>
  <label for="password">${t('password.new')}</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required aria-describedby="rules">
  <label for="confirm">${t('password.repeat')}</label>
  <input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
  <input type="hidden" name="token" value="${m.token}">
  <p class="hint" id="rules">${t('password.rules', { min: m.minLength })}</p>
  <button type="submit">${t('password.submit')}</button>
</form>`,
  );
}

/** An error page; `detail` is a technical explanation that may not be translated (marked as English then). */
export function errorPage(page: Page, title: string, message: string, detail?: string): string {
  return layout(
    page,
    title,
    html`<h1>${title}</h1><div class="notice error" role="alert"><p>${message}</p>${
      detail && detail !== message ? html`<p class="hint">${page.tr.h('error.detail', { detail: html`<span lang="en">${detail}</span>` })}</p>` : null
    }</div>`,
  );
}

/** CAS `method=POST`: a form the browser submits to the service (static script, CSP-safe). */
export function postRedirectPage(page: Page, action: string, fields: Record<string, string>): string {
  const { t } = page.tr;
  return layout(
    page,
    t('continue.title'),
    html`<h1>${t('continue.heading')}</h1>
<form method="post" action="${action}" id="redirect-form">
${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<button type="submit">${t('continue.submit')}</button>
</form>
<script src="/cas/static/autosubmit.js"></script>`,
  );
}

export interface NoticeText {
  version: string;
  title?: string;
  paragraphs: string[];
}

/** The acceptable-use notice, shown after sign-in and before any ticket. */
export function noticePage(page: Page, notice: NoticeText, token: string): string {
  const { t } = page.tr;
  const title = notice.title ?? t('notice.title');
  return layout(
    page,
    title,
    html`<h1 id="notice-title">${title}</h1>
<p>${t('notice.intro')}</p>
<div class="notice-text" id="notice-text" role="region" aria-labelledby="notice-title" tabindex="0">${notice.paragraphs.map((p) => html`<p>${p}</p>`)}</div>
<p class="hint">${t('notice.version', { version: notice.version })}</p>
<form method="post" action="/cas/notice" class="actions">
  <input type="hidden" name="token" value="${token}">
  <button type="submit" name="decision" value="accept">${t('notice.accept')}</button>
  <button type="submit" name="decision" value="decline" class="secondary">${t('notice.decline')}</button>
</form>`,
  );
}
