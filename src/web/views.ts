import { type SafeHtml, html } from './html';

export type Notice = { kind: 'error' | 'info' | 'success'; text: string; items?: string[] };

export function layout(title: string, body: SafeHtml): string {
  return `<!DOCTYPE html>\n${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Portcullis</title>
<link rel="stylesheet" href="/cas/static/portcullis.css">
</head>
<body>
<main class="card">
<p class="brand" aria-hidden="true">Portcullis</p>
${body}
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

export interface LoginPageModel {
  execution: string;
  service?: string;
  renew?: boolean;
  method?: string;
  username?: string;
  notice?: Notice;
  /** "Sign in with a passkey" (src/web/webauthn-views.ts), under the form. */
  passkey?: SafeHtml;
}

export function loginPage(m: LoginPageModel): string {
  const described = m.notice ? 'notice' : undefined;
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>
${notice(m.notice)}
<form method="post" action="/cas/login" autocomplete="on" novalidate>
  <label for="username">Username</label>
  <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="256" value="${m.username ?? ''}" ${described ? html`aria-describedby="${described}"` : null} ${m.username ? null : html`autofocus`}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required ${m.username ? html`autofocus` : null}>
  <input type="hidden" name="execution" value="${m.execution}">
  <input type="hidden" name="_eventId" value="submit">
  ${m.service !== undefined ? html`<input type="hidden" name="service" value="${m.service}">` : null}
  ${m.renew ? html`<input type="hidden" name="renew" value="true">` : null}
  ${m.method ? html`<input type="hidden" name="method" value="${m.method}">` : null}
  <button type="submit">Sign in</button>
</form>
${m.passkey ?? null}
<p class="hint">Accounts are locked for a while after repeated failed attempts.</p>`,
  );
}

export function loggedInPage(username: string): string {
  return layout(
    'Signed in',
    html`<h1>You are logged in</h1>
<div class="notice success" role="status"><p>Signed in as <strong>${username}</strong>. Single sign-on is active for the applications that use this service.</p></div>
<p><a class="button" href="/cas/logout">Sign out</a></p>`,
  );
}

export function loggedOutPage(): string {
  return layout(
    'Signed out',
    html`<h1>You are logged out</h1>
<div class="notice info" role="status"><p>Your single sign-on session has ended. For security, close your browser when you are finished.</p></div>
<p><a class="button" href="/cas/login">Sign in again</a></p>`,
  );
}

export interface ChangePasswordModel {
  token: string;
  username: string;
  reason: 'initial' | 'expired';
  notice?: Notice;
}

export function changePasswordPage(m: ChangePasswordModel): string {
  const why = m.reason === 'expired' ? 'Your password has expired.' : 'You must choose a new password before continuing.';
  return layout(
    'Change password',
    html`<h1>Change your password</h1>
${notice(m.notice ?? { kind: 'info', text: why })}
<form method="post" action="/cas/password" novalidate>
  <p>Account: <strong>${m.username}</strong></p>
  <label for="password">New password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required aria-describedby="rules">
  <label for="confirm">Repeat new password</label>
  <input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
  <input type="hidden" name="token" value="${m.token}">
  <p class="hint" id="rules">Use at least 8 characters with a digit or special character. Common and published example passwords, and passwords containing your username, are refused.</p>
  <button type="submit">Change password</button>
</form>`,
  );
}

export function errorPage(title: string, message: string): string {
  return layout(title, html`<h1>${title}</h1><div class="notice error" role="alert"><p>${message}</p></div>`);
}

/** CAS `method=POST`: a form the browser submits to the service (static script, CSP-safe). */
export function postRedirectPage(action: string, fields: Record<string, string>): string {
  return layout(
    'Continue',
    html`<h1>Continue to the application</h1>
<form method="post" action="${action}" id="redirect-form">
${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<button type="submit">Continue</button>
</form>
<script src="/cas/static/autosubmit.js"></script>`,
  );
}
