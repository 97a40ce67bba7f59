import { SafeHtml, html } from './html';
import { type Notice, type Page, layout, notice } from './views';

/** The second-factor step: a code from the authenticator app, or a recovery code. */
export function secondFactorPage(page: Page, m: { token: string; username: string; notice?: Notice; keys?: SafeHtml | null }): string {
  const { t } = page.tr;
  return layout(
    page,
    t('mfa.codeTitle'),
    html`<h1>${t('mfa.codeHeading')}</h1>
${notice(m.notice ?? { kind: 'info', text: t('mfa.codePrompt') })}
${m.keys ?? null}
<form method="post" action="/cas/mfa" autocomplete="off" novalidate>
  <p>${t('mfa.account', { username: m.username })}</p>
  <label for="code">${t('mfa.code')}</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" required maxlength="32" autofocus aria-describedby="code-hint">
  <p class="hint" id="code-hint">${t('mfa.codeHint')}</p>
  <input type="hidden" name="token" value="${m.token}">
  <button type="submit">${t('mfa.continue')}</button>
</form>`,
  );
}

/** Enrolment of an authenticator app: QR code (inline SVG rendered on the server) and the secret as text. */
export function enrolTotpPage(page: Page, m: { token: string; username: string; secret: string; qrSvg: string; notice?: Notice; keys?: SafeHtml | null }): string {
  const { t } = page.tr;
  return layout(
    page,
    t('mfa.enrolTitle'),
    html`<h1>${t('mfa.enrolTitle')}</h1>
${notice(m.notice ?? { kind: 'info', text: t('mfa.enrolPrompt') })}
${m.keys ?? null}
<figure class="qr">${new SafeHtml(m.qrSvg)}<figcaption>${t('mfa.typeKey')} <code id="secret">${m.secret.replace(/(.{4})/g, '$1 ').trim()}</code></figcaption></figure>
<form method="post" action="/cas/mfa/enrol" autocomplete="off" novalidate>
  <p>${t('mfa.account', { username: m.username })}</p>
  <label for="name">${t('mfa.deviceName')}</label>
  <input id="name" name="name" type="text" maxlength="64" value="${t('mfa.deviceDefault')}">
  <label for="code">${t('mfa.appCode')}</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="8" autofocus>
  <input type="hidden" name="token" value="${m.token}">
  <button type="submit">${t('mfa.confirm')}</button>
</form>`,
  );
}

/** Recovery codes, shown once after the first factor is enrolled. */
export function recoveryCodesPage(page: Page, m: { codes: string[]; continueUrl: string }): string {
  const { t } = page.tr;
  return layout(
    page,
    t('mfa.codesTitle'),
    html`<h1>${t('mfa.codesHeading')}</h1>
<div class="notice success" role="status"><p>${t('mfa.codesText')}</p></div>
<ol class="codes">${m.codes.map((code) => html`<li><code>${code}</code></li>`)}</ol>
<p><a class="button" href="${m.continueUrl}">${t('mfa.continue')}</a></p>`,
  );
}
