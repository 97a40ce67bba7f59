/**
 * Security keys and passkeys on the login pages. Each section is a form that
 * src/web/static/webauthn.js enhances: it stays hidden without script or
 * WebAuthn, asks /cas/webauthn/options for the ceremony, runs it in the
 * browser and submits the result. No inline script (the CSP allows 'self' only).
 */
import { type SafeHtml, html } from './html';
import { type Notice, type Page, layout, notice } from './views';
import type { MessageKey, Translator } from './i18n';

const SCRIPTS = html`<script src="/cas/static/simplewebauthn-browser.js"></script>
<script src="/cas/static/webauthn.js"></script>`;

/** Catalogue keys of the key pages' messages (texts in src/web/locales). */
export const KEY_MESSAGES = {
  enrolChoice: 'webauthn.enrolChoice',
  codeOrKey: 'webauthn.codeOrKey',
  keyRefused: 'webauthn.keyRefused',
  enrolRefused: 'webauthn.enrolRefused',
  passkeyRefused: 'webauthn.passkeyRefused',
  passkeyPasswordChange: 'webauthn.passkeyPasswordChange',
  passkeyDirectory: 'webauthn.passkeyDirectory',
  noCredential: 'webauthn.noCredential',
  keyAdded: 'webauthn.keyAdded',
  keysNeedSecondFactor: 'webauthn.keysNeedSecondFactor',
} as const satisfies Record<string, MessageKey>;

/** The script's status line: where it reports a cancelled or failed ceremony. */
function status(): SafeHtml {
  return html`<p class="hint" role="status" data-webauthn-status></p>`;
}

/** "Use a security key" on the second-factor page. */
export function securityKeySection({ t }: Translator, token: string): SafeHtml {
  return html`<form method="post" action="/cas/mfa/webauthn" data-webauthn="authenticate" data-webauthn-failed="${t('webauthn.failed')}" hidden>
  <input type="hidden" name="token" value="${token}">
  <input type="hidden" name="credential" value="">
  <button type="submit">${t('webauthn.useKey')}</button>
  ${status()}
</form>
${SCRIPTS}`;
}

/** A form that registers a key under a name: at enrolment ("register") or from a signed-in session ("add"). */
function registrationForm({ t }: Translator, action: string, ceremony: 'register' | 'add', token: string, heading: SafeHtml | null): SafeHtml {
  return html`<form method="post" action="${action}" data-webauthn="${ceremony}" data-webauthn-failed="${t('webauthn.failed')}" hidden>
  ${heading}
  <label for="key-name">${t('webauthn.keyName')}</label>
  <input id="key-name" name="name" type="text" maxlength="64" value="${t('webauthn.keyNameDefault')}">
  <input type="hidden" name="token" value="${token}">
  <input type="hidden" name="credential" value="">
  <button type="submit">${t('webauthn.addKey')}</button>
  ${status()}
</form>
${SCRIPTS}`;
}

/** "Add a security key / passkey" on the enrolment page (a passkey can be the first factor). */
export function addKeySection(tr: Translator, token: string): SafeHtml {
  return html`${registrationForm(tr, '/cas/mfa/webauthn/enrol', 'register', token, html`<h2>${tr.t('webauthn.keyHeading')}</h2>`)}
<h2>${tr.t('webauthn.appHeading')}</h2>`;
}

/** "Sign in with a passkey" under the login form: both factors in one (user verification required). */
export function passkeySection({ t }: Translator, m: { execution: string; service?: string; renew?: boolean; method?: string }): SafeHtml {
  return html`<form method="post" action="/cas/login/passkey" data-webauthn="passkey" data-webauthn-failed="${t('webauthn.failed')}" hidden>
  <input type="hidden" name="execution" value="${m.execution}">
  ${m.service !== undefined ? html`<input type="hidden" name="service" value="${m.service}">` : null}
  ${m.renew ? html`<input type="hidden" name="renew" value="true">` : null}
  ${m.method ? html`<input type="hidden" name="method" value="${m.method}">` : null}
  <input type="hidden" name="credential" value="">
  <button type="submit">${t('webauthn.passkey')}</button>
  ${status()}
</form>
${SCRIPTS}`;
}

/** The signed-in user's security keys and passkeys, with "Add a security key / passkey". */
export function keysPage(page: Page, m: { token: string; username: string; keys: { name: string; createdAt: number; lastUsedAt: number | null }[]; notice?: Notice }): string {
  const day = (at: number | null) => (at === null ? '—' : new Date(at).toISOString().slice(0, 10));
  const { t } = page.tr;
  return layout(
    page,
    t('webauthn.keysTitle'),
    html`<h1>${t('webauthn.keysHeading')}</h1>
${notice(m.notice)}
<p>${t('mfa.account', { username: m.username })}</p>
${m.keys.length > 0 ? html`<table class="keys"><thead><tr><th>${t('webauthn.keyColumn')}</th><th>${t('webauthn.addedColumn')}</th><th>${t('webauthn.lastUsedColumn')}</th></tr></thead><tbody>${m.keys.map((k) => html`<tr><td>${k.name}</td><td>${day(k.createdAt)}</td><td>${day(k.lastUsedAt)}</td></tr>`)}</tbody></table>` : html`<p>${t('webauthn.noKeys')}</p>`}
${registrationForm(page.tr, '/cas/mfa/keys', 'add', m.token, null)}`,
  );
}
