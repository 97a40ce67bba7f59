import { SafeHtml, html } from './html';
import { type Notice, layout, notice } from './views';

/** The second-factor step: a code from the authenticator app, or a recovery code. */
export function secondFactorPage(m: { token: string; username: string; notice?: Notice; keys?: SafeHtml | null }): string {
  return layout(
    'Second factor',
    html`<h1>Confirm it is you</h1>
${notice(m.notice ?? { kind: 'info', text: 'Enter the 6-digit code from your authenticator app.' })}
${m.keys ?? null}
<form method="post" action="/cas/mfa" autocomplete="off" novalidate>
  <p>Account: <strong>${m.username}</strong></p>
  <label for="code">Code</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" required maxlength="32" autofocus aria-describedby="code-hint">
  <p class="hint" id="code-hint">Lost your phone? Enter one of your recovery codes instead (like ABCD-EFGH-JKLM); each works once.</p>
  <input type="hidden" name="token" value="${m.token}">
  <button type="submit">Continue</button>
</form>`,
  );
}

/** Enrolment of an authenticator app: QR code (inline SVG rendered on the server) and the secret as text. */
export function enrolTotpPage(m: { token: string; username: string; secret: string; qrSvg: string; notice?: Notice; keys?: SafeHtml | null }): string {
  return layout(
    'Set up a second factor',
    html`<h1>Set up a second factor</h1>
${notice(m.notice ?? { kind: 'info', text: 'This account must use a second factor. Scan the code with an authenticator app, then enter the 6-digit code it shows.' })}
${m.keys ?? null}
<figure class="qr">${new SafeHtml(m.qrSvg)}<figcaption>Or type this key: <code id="secret">${m.secret.replace(/(.{4})/g, '$1 ').trim()}</code></figcaption></figure>
<form method="post" action="/cas/mfa/enrol" autocomplete="off" novalidate>
  <p>Account: <strong>${m.username}</strong></p>
  <label for="name">Name for this device</label>
  <input id="name" name="name" type="text" maxlength="64" value="Authenticator app">
  <label for="code">Code from the app</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="8" autofocus>
  <input type="hidden" name="token" value="${m.token}">
  <button type="submit">Confirm</button>
</form>`,
  );
}

/** Recovery codes, shown once after the first factor is enrolled. */
export function recoveryCodesPage(m: { codes: string[]; continueUrl: string }): string {
  return layout(
    'Recovery codes',
    html`<h1>Save your recovery codes</h1>
<div class="notice success" role="status"><p>Your second factor is set up. If you lose your device, each of these codes signs you in once. They are shown only now: print them or store them somewhere safe.</p></div>
<ol class="codes">${m.codes.map((code) => html`<li><code>${code}</code></li>`)}</ol>
<p><a class="button" href="${m.continueUrl}">Continue</a></p>`,
  );
}
