/**
 * Security keys and passkeys on the login pages. Each section is a form that
 * src/web/static/webauthn.js enhances: it stays hidden without script or
 * WebAuthn, asks /cas/webauthn/options for the ceremony, runs it in the
 * browser and submits the result. No inline script (the CSP allows 'self' only).
 */
import { type SafeHtml, html } from './html';
import { type Notice, type Page, layout, notice } from './views';

const SCRIPTS = html`<script src="/cas/static/simplewebauthn-browser.js"></script>
<script src="/cas/static/webauthn.js"></script>`;

const FAILED = 'The security key or passkey did not answer, or the request was cancelled. Try again.';

export const KEY_MESSAGES = {
  enrolChoice: 'This account must use a second factor. Add a security key or passkey, or scan the code with an authenticator app and enter the 6-digit code it shows.',
  codeOrKey: 'Use your security key or passkey, or enter a code from your authenticator app or a recovery code.',
  keyRefused: 'That security key was not accepted. Use a key registered to this account, or enter a code.',
  enrolRefused: 'The security key could not be registered. Try again, or set up an authenticator app instead.',
  passkeyRefused: 'That passkey was not accepted. Sign in with your username and password.',
  noCredential: 'The security key did not send an answer. Try again.',
  keyAdded: 'The security key was added.',
  keysNeedSecondFactor: 'To manage security keys, sign in with your second factor first.',
} as const;

/** The script's status line: where it reports a cancelled or failed ceremony. */
function status(): SafeHtml {
  return html`<p class="hint" role="status" data-webauthn-status></p>`;
}

/** "Use a security key" on the second-factor page. */
export function securityKeySection(token: string): SafeHtml {
  return html`<form method="post" action="/cas/mfa/webauthn" data-webauthn="authenticate" data-webauthn-failed="${FAILED}" hidden>
  <input type="hidden" name="token" value="${token}">
  <input type="hidden" name="credential" value="">
  <button type="submit">Use a security key</button>
  ${status()}
</form>
${SCRIPTS}`;
}

/** A form that registers a key under a name: at enrolment ("register") or from a signed-in session ("add"). */
function registrationForm(action: string, ceremony: 'register' | 'add', token: string, heading: SafeHtml | null): SafeHtml {
  return html`<form method="post" action="${action}" data-webauthn="${ceremony}" data-webauthn-failed="${FAILED}" hidden>
  ${heading}
  <label for="key-name">Name for this key</label>
  <input id="key-name" name="name" type="text" maxlength="64" value="Security key">
  <input type="hidden" name="token" value="${token}">
  <input type="hidden" name="credential" value="">
  <button type="submit">Add a security key / passkey</button>
  ${status()}
</form>
${SCRIPTS}`;
}

/** "Add a security key / passkey" on the enrolment page (a passkey can be the first factor). */
export function addKeySection(token: string): SafeHtml {
  return html`${registrationForm('/cas/mfa/webauthn/enrol', 'register', token, html`<h2>Security key or passkey</h2>`)}
<h2>Authenticator app</h2>`;
}

/** "Sign in with a passkey" under the login form: both factors in one (user verification required). */
export function passkeySection(m: { execution: string; service?: string; renew?: boolean; method?: string }): SafeHtml {
  return html`<form method="post" action="/cas/login/passkey" data-webauthn="passkey" data-webauthn-failed="${FAILED}" hidden>
  <input type="hidden" name="execution" value="${m.execution}">
  ${m.service !== undefined ? html`<input type="hidden" name="service" value="${m.service}">` : null}
  ${m.renew ? html`<input type="hidden" name="renew" value="true">` : null}
  ${m.method ? html`<input type="hidden" name="method" value="${m.method}">` : null}
  <input type="hidden" name="credential" value="">
  <button type="submit">Sign in with a passkey</button>
  ${status()}
</form>
${SCRIPTS}`;
}

/** The signed-in user's security keys and passkeys, with "Add a security key / passkey". */
export function keysPage(page: Page, m: { token: string; username: string; keys: { name: string; createdAt: number; lastUsedAt: number | null }[]; notice?: Notice }): string {
  const day = (at: number | null) => (at === null ? '—' : new Date(at).toISOString().slice(0, 10));
  return layout(
    page,
    'Security keys',
    html`<h1>Security keys and passkeys</h1>
${notice(m.notice)}
<p>Account: <strong>${m.username}</strong></p>
${m.keys.length > 0 ? html`<table class="keys"><thead><tr><th>Name</th><th>Added</th><th>Last used</th></tr></thead><tbody>${m.keys.map((k) => html`<tr><td>${k.name}</td><td>${day(k.createdAt)}</td><td>${day(k.lastUsedAt)}</td></tr>`)}</tbody></table>` : html`<p>No security key yet.</p>`}
${registrationForm('/cas/mfa/keys', 'add', m.token, null)}`,
  );
}
