import type request from 'supertest';
import { totpCode } from '../../src/mfa/totp';
import { ConsoleStats } from '../../src/storage/console-stats';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';

type Agent = ReturnType<typeof request.agent>;

/** Follows the console's sign-in: /admin → /cas/login?service=… → callback → /admin. */
async function consoleLogin(ctx: TestContext, username: string, password: string, path = '/admin'): Promise<Agent> {
  const agent = ctx.agent();
  const first = await agent.get(path);
  expect(first.status).toBe(303);
  const service = new URL(first.headers.location, ctx.url).searchParams.get('service')!;
  expect(service).toBe(`/admin/session?next=${encodeURIComponent(path)}`);
  const login = await submitLogin(agent, username, password, { service });
  expect(login.status).toBe(303);
  expect(login.headers.location).toMatch(/^\/admin\/session\?next=.*&ticket=/);
  const callback = await agent.get(login.headers.location);
  expect(callback.status).toBe(303);
  expect(callback.headers['set-cookie']?.[0]).toMatch(/^PCADMIN=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
  expect(callback.headers.location).toBe(path);
  return agent;
}

const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)![1];

async function post(agent: Agent, path: string, form: Record<string, string>, from = path) {
  const page = await agent.get(from);
  return agent.post(path).type('form').send({ csrf: csrfOf(page.text), ...form });
}

describe('admin console', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
    await ctx.addUser('root', 'Granite-Osprey-71', { role: 'admin' });
    await ctx.addUser('plain', 'Copper-Meadow-33');
  });
  afterEach(() => ctx.close());

  it('signs an administrator in through /cas/login and back; refuses other accounts; / goes to the right place', async () => {
    expect((await ctx.agent().get('/')).headers.location).toBe('/cas/login');
    const admin = await consoleLogin(ctx, 'root', 'Granite-Osprey-71');
    const dashboard = await admin.get('/admin');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('<h1>Dashboard</h1>');
    expect(dashboard.text).toMatch(/<svg viewBox="0 0 720 220" role="img"/);
    // The chart counts this hour's sign-ins: the one above succeeded; add a failure and a lockout.
    for (let i = 0; i < 3; i++) await submitLogin(ctx.agent(), 'ghost', `wrong-password-${i}`);
    const hours = await new ConsoleStats(ctx.services.db.knex).signInsPerHour(ctx.clock.now(), 24);
    expect(hours).toHaveLength(24);
    expect(hours[23]).toMatchObject({ succeeded: 1, failed: 3, locked: 1 });
    expect(hours.slice(0, 23).every((h) => h.succeeded + h.failed + h.locked === 0)).toBe(true);
    expect((await admin.get('/admin')).text).toContain('<td>1</td><td>3</td><td>1</td>');
    expect((await admin.get('/')).headers.location).toBe('/admin');
    // The "logged in" page links an administrator to the console.
    expect((await admin.get('/cas/login')).text).toContain('href="/admin"');

    const user = ctx.agent();
    const first = await user.get('/admin/accounts');
    const service = new URL(first.headers.location, ctx.url).searchParams.get('service')!;
    const login = await submitLogin(user, 'plain', 'Copper-Meadow-33', { service });
    await user.get(login.headers.location);
    const refused = await user.get('/admin/accounts');
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('not an enabled administrator');
    expect((await user.get('/cas/login')).text).not.toContain('href="/admin"');

    // Signing out of CAS ends the console session too.
    await admin.get('/cas/logout');
    expect((await admin.get('/admin')).status).toBe(303);
  });

  it('counts "locked now" on the dashboard by the regulator\'s rule: a stored lock counts only while lockout is on', async () => {
    const lockedNow = async () => {
      const admin = await consoleLogin(ctx, 'root', 'Granite-Osprey-71');
      return /<strong>(\d+)<\/strong> locked now/.exec((await admin.get('/admin')).text)?.[1];
    };
    const storeLock = () => ctx.services.db.knex('lockout_state').insert({ username_key: 'plain', failure_count: 3, locked_until: ctx.clock.now() + 60_000, last_failure_at: ctx.clock.now() });
    await storeLock();
    expect(await lockedNow()).toBe('1');
    await ctx.close();
    ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 0 } } });
    await ctx.addUser('root', 'Granite-Osprey-71', { role: 'admin' });
    await ctx.addUser('plain', 'Copper-Meadow-33');
    await storeLock();
    expect(await lockedNow()).toBe('0');
  });

  it('creates accounts through the account service: rules, administrator limit, CSRF, audit with the acting administrator', async () => {
    const admin = await consoleLogin(ctx, 'root', 'Granite-Osprey-71');
    const noToken = await admin.post('/admin/accounts').type('form').send({ username: 'sneaky', role: 'user' });
    expect(noToken.status).toBe(403);
    expect(await ctx.services.accountService.findByUsername('sneaky')).toBeNull();

    const weak = await post(admin, '/admin/accounts', { username: 'kenji', password: 'kenji', role: 'user' }, '/admin/accounts/new');
    expect(weak.status).toBe(422);
    expect(weak.text).toContain('It must be at least 8 characters long.');
    expect(weak.text).toContain('It must not contain the username.');

    const created = await post(admin, '/admin/accounts', { username: 'kenji', password: 'Maple-Harbor-29', role: 'user', mustChangePassword: 'true', enabled: 'true' }, '/admin/accounts/new');
    expect(created.status).toBe(303);
    const kenji = await ctx.services.accountService.requireByUsername('kenji');
    expect(kenji.mustChangePassword).toBe(true);
    expect((await admin.get(created.headers.location)).text).toContain('The account was created.');
    const { events } = await ctx.services.audit.query({ event: 'account_created', username: 'kenji' });
    expect(events[0].actor).toBe('root');

    // root + bootstrap-less context: root is one admin; a second is allowed, a third is refused (MaxAdministratorCount 2).
    expect((await post(admin, '/admin/accounts', { username: 'second', role: 'admin', enabled: 'true' }, '/admin/accounts/new')).status).toBe(303);
    const third = await post(admin, '/admin/accounts', { username: 'third', role: 'admin', enabled: 'true' }, '/admin/accounts/new');
    expect(third.status).toBe(409);
    expect(third.text).toContain('There are already 2 administrators, the most MaxAdministratorCount allows.');
    expect(await ctx.services.accountService.findByUsername('third')).toBeNull();
  });

  it('refuses a stale edit, asks for the password again for a role change after 5 minutes, unlocks', async () => {
    const admin = await consoleLogin(ctx, 'root', 'Granite-Osprey-71');
    const plain = await ctx.services.accountService.requireByUsername('plain');
    const path = `/admin/accounts/${plain.id}`;
    const page = await admin.get(path);
    await ctx.services.accountService.update(plain.id, { displayName: 'Changed elsewhere' }, { name: 'cli' });
    const stale = await admin.post(path).type('form').send({ csrf: csrfOf(page.text), version: String(plain.version), displayName: 'Mine', role: 'user', enabled: 'true' });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('Someone else changed this record');
    expect((await ctx.services.accountService.get(plain.id)).displayName).toBe('Changed elsewhere');

    ctx.clock.advance(6 * 60_000);
    const current = await ctx.services.accountService.get(plain.id);
    const promote = await post(admin, path, { version: String(current.version), role: 'admin', enabled: 'true' });
    expect(promote.status).toBe(200);
    expect(promote.text).toContain('<h1>Confirm it is you</h1>');
    expect(promote.text).toContain('name="password"');
    expect(promote.text).not.toContain('name="code"');
    expect((await ctx.services.accountService.get(plain.id)).role).toBe('user');
    // Editing the display name is not sensitive.
    expect((await post(admin, path, { version: String(current.version), displayName: 'Plain User', role: 'user', enabled: 'true' })).status).toBe(303);

    for (let i = 0; i < 3; i++) await submitLogin(ctx.agent(), 'plain', `wrong-password-${i}`);
    expect((await admin.get(path)).text).toContain('Unlock');
    expect((await post(admin, `${path}/unlock`, {}, path)).status).toBe(303);
    expect((await ctx.services.lockouts.get(plain.usernameKey)).lockedUntil).toBeNull();
  });

  it('re-authenticates a stale session with password and code when the administrator has a second factor, then carries out the pending action', async () => {
    const admin = await consoleLogin(ctx, 'root', 'Granite-Osprey-71');
    const root = await ctx.services.accountService.requireByUsername('root');
    const { secret } = await ctx.services.mfa.beginTotp(root);
    expect(await ctx.services.mfa.confirmTotp(root, secret, totpCode(secret, ctx.clock.now()), 'phone', { clientIp: null, userAgent: null, channel: 'test' })).not.toBeNull();
    const plain = await ctx.services.accountService.requireByUsername('plain');
    const path = `/admin/accounts/${plain.id}`;
    ctx.clock.advance(6 * 60_000);

    const asked = await post(admin, path, { version: String(plain.version), displayName: 'Promoted', role: 'admin', enabled: 'true' });
    expect(asked.status).toBe(200);
    expect(asked.text).toContain('name="password"');
    expect(asked.text).toContain('name="code"');
    expect((await ctx.services.accountService.get(plain.id)).role).toBe('user');
    const pending = /name="pending" value="([^"]+)"/.exec(asked.text)![1];
    const form = { csrf: csrfOf(asked.text), pending, password: 'Granite-Osprey-71' };
    const now = ctx.clock.now();
    const near = [-30_000, 0, 30_000].map((d) => totpCode(secret, now + d));
    const wrongCode = ['000000', '111111', '222222'].find((c) => !near.includes(c))!;

    const noCode = await admin.post('/admin/reauthenticate').type('form').send(form);
    expect(noCode.status).toBe(422);
    const wrong = await admin.post('/admin/reauthenticate').type('form').send({ ...form, code: wrongCode });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('The password or code is not right');
    expect((await ctx.services.accountService.get(plain.id)).role).toBe('user');
    expect((await ctx.services.lockouts.get(root.usernameKey)).failureCount).toBe(1);
    expect((await ctx.services.audit.query({ event: 'mfa_failed', username: 'root' })).events).toHaveLength(1);
    const wrongPassword = await admin.post('/admin/reauthenticate').type('form').send({ ...form, password: 'not-my-password', code: totpCode(secret, now) });
    expect(wrongPassword.status).toBe(422);
    expect((await ctx.services.lockouts.get(root.usernameKey)).failureCount).toBe(2);

    const right = await admin.post('/admin/reauthenticate').type('form').send({ ...form, code: totpCode(secret, now) });
    expect(right.status).toBe(303);
    expect(right.headers.location).toBe(`${path}?done=updated`);
    expect(await ctx.services.accountService.get(plain.id)).toMatchObject({ role: 'admin', displayName: 'Promoted' });
    // For the next 5 minutes a sensitive action is not asked again.
    const removed = await post(admin, `${path}/delete`, { confirm: 'true' }, path);
    expect(removed.headers.location).toBe('/admin/accounts?done=deleted');
  });

  it('keeps a pending password reset out of the page while it waits for re-authentication; a changed or replayed one is refused', async () => {
    const admin = await consoleLogin(ctx, 'root', 'Granite-Osprey-71');
    const plain = await ctx.services.accountService.requireByUsername('plain');
    const path = `/admin/accounts/${plain.id}`;
    const newPassword = 'Velvet-Harbor-58-Quartz';
    const who = { clientIp: null, userAgent: null, channel: 'test' };
    const resets = async () => (await ctx.services.audit.query({ event: 'password_changed', username: 'plain' })).events.length;
    ctx.clock.advance(6 * 60_000);

    const asked = await post(admin, `${path}/password`, { password: newPassword, mustChangePassword: 'false' }, path);
    expect(asked.status).toBe(200);
    expect(asked.text).toContain('<h1>Confirm it is you</h1>');
    // Not in the page, nor in any encoding of a hidden field's parts a reader could undo.
    const hidden = [...asked.text.matchAll(/<input type="hidden" name="[^"]+" value="([^"]+)"/g)].map((m) => m[1]);
    const decoded = hidden.flatMap((value) => value.split('.')).map((part) => Buffer.from(part, 'base64url').toString('latin1'));
    expect(asked.text).not.toContain(newPassword);
    for (const text of decoded) expect(text).not.toContain(newPassword);
    const pending = /name="pending" value="([^"]+)"/.exec(asked.text)![1];
    const form = { csrf: csrfOf(asked.text), password: 'Granite-Osprey-71' };

    const [iv, tag, sealed] = pending.split('.');
    const flipped = Buffer.from(sealed, 'base64url');
    flipped[0] ^= 1;
    const tampered = await admin.post('/admin/reauthenticate').type('form').send({ ...form, pending: [iv, tag, flipped.toString('base64url')].join('.') });
    expect(tampered.status).toBe(400);
    expect(tampered.text).toContain('This confirmation has expired');
    expect(await ctx.services.loginService.confirmPassword(plain, newPassword, who)).not.toBe('confirmed');

    const done = await admin.post('/admin/reauthenticate').type('form').send({ ...form, pending });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe(`${path}?done=password`);
    const reset = await ctx.services.accountService.get(plain.id);
    expect(await ctx.services.loginService.confirmPassword(reset, newPassword, who)).toBe('confirmed');
    expect(await resets()).toBe(1);

    const replayed = await admin.post('/admin/reauthenticate').type('form').send({ ...form, pending });
    expect(replayed.status).toBe(400);
    expect(replayed.text).toContain('This confirmation has expired');
    expect(await resets()).toBe(1);
  });

  it("lists an account's sign-on sessions and ends one (audited with the administrator)", async () => {
    const admin = await consoleLogin(ctx, 'root', 'Granite-Osprey-71');
    const user = ctx.agent();
    await submitLogin(user, 'plain', 'Copper-Meadow-33');
    expect((await user.get('/cas/login')).text).toContain('You are logged in');
    const plain = await ctx.services.accountService.requireByUsername('plain');
    const page = await admin.get(`/admin/accounts/${plain.id}`);
    const key = /name="session" value="([0-9a-f]+)"/.exec(page.text)![1];
    const ended = await admin.post(`/admin/accounts/${plain.id}/sessions`).type('form').send({ csrf: csrfOf(page.text), session: key });
    expect(ended.status).toBe(303);
    expect((await user.get('/cas/login')).text).toContain('name="password"');
    expect((await ctx.services.audit.query({ event: 'session_revoked' })).events[0]).toMatchObject({ username: 'plain', actor: 'root' });
  });

  it('registers a service, tests URLs against the registry, filters the audit log and exports CSV', async () => {
    const admin = await consoleLogin(ctx, 'root', 'Granite-Osprey-71');
    const bad = await post(admin, '/admin/services', { name: 'x', serviceUrl: 'https://app.example.org*', enabled: 'true' }, '/admin/services/new');
    expect(bad.status).toBe(422);
    const registered = await post(admin, '/admin/services', { name: 'ma4000', serviceUrl: 'https://ma4000.example.org/**', evaluationOrder: '10', releasedAttributes: 'displayName, mail', enabled: 'true' }, '/admin/services/new');
    expect(registered.status).toBe(303);
    expect((await ctx.services.serviceRegistry.findByName('ma4000'))?.releasedAttributes).toEqual(['displayName', 'mail']);

    const hit = await admin.get(`/admin/services?test=${encodeURIComponent('https://ma4000.example.org/app/home')}`);
    expect(hit.text).toContain('Matches the pattern of ma4000 (evaluation order 10');
    const miss = await admin.get(`/admin/services?test=${encodeURIComponent('https://ma4000.example.org.evil.test/')}`);
    expect(miss.text).toContain('No enabled service matches');

    const filtered = await admin.get('/admin/audit?event=service_created');
    expect(filtered.text).toContain('1 events, newest first');
    const csv = await admin.get('/admin/audit.csv?event=service_created');
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('"service_created","success","","root"');
  });

  it('deletes with confirmation and a recent password; refuses to delete the last administrator; edits and removes a service; shows the policy', async () => {
    const admin = await consoleLogin(ctx, 'root', 'Granite-Osprey-71');
    const plain = await ctx.services.accountService.requireByUsername('plain');
    const unconfirmed = await post(admin, `/admin/accounts/${plain.id}/delete`, {}, `/admin/accounts/${plain.id}`);
    expect(unconfirmed.status).toBe(422);
    expect(unconfirmed.text).toContain('Tick the confirmation box first.');
    expect((await post(admin, `/admin/accounts/${plain.id}/delete`, { confirm: 'true' }, `/admin/accounts/${plain.id}`)).headers.location).toBe('/admin/accounts?done=deleted');
    expect(await ctx.services.accountService.findByUsername('plain')).toBeNull();
    expect((await ctx.services.audit.query({ event: 'account_deleted' })).events[0]).toMatchObject({ username: 'plain', actor: 'root' });

    const root = await ctx.services.accountService.requireByUsername('root');
    const last = await post(admin, `/admin/accounts/${root.id}/delete`, { confirm: 'true' }, `/admin/accounts/${root.id}`);
    expect(last.status).toBe(409);
    expect(last.text).toContain('This is the last enabled administrator');

    await post(admin, '/admin/services', { name: 'intranet', serviceUrl: 'https://intranet.example.org/', enabled: 'true' }, '/admin/services/new');
    const service = (await ctx.services.serviceRegistry.findByName('intranet'))!;
    const edited = await post(admin, `/admin/services/${service.id}`, { version: String(service.version), name: 'intranet', serviceUrl: 'https://intranet.example.org/**', enabled: 'true' });
    expect(edited.status).toBe(303);
    expect((await ctx.services.serviceRegistry.get(service.id))?.serviceUrl).toBe('https://intranet.example.org/**');
    expect((await post(admin, `/admin/services/${service.id}/delete`, { confirm: 'true' }, `/admin/services/${service.id}`)).status).toBe(303);
    expect(await ctx.services.serviceRegistry.get(service.id)).toBeNull();
    expect((await ctx.services.audit.query({ event: 'service_deleted' })).events[0].actor).toBe('root');

    const policy = await admin.get('/admin/policy');
    expect(policy.text).toMatch(/<code>maxAdministratorCount<\/code><\/th><td>2<\/td><td>built-in default<\/td>/);
  });

  it('sends the administrator back to the login page when the single sign-on session has expired', async () => {
    const admin = await consoleLogin(ctx, 'root', 'Granite-Osprey-71', '/admin/audit');
    expect((await admin.get('/admin/audit')).status).toBe(200);
    ctx.clock.advance(ctx.services.config.tickets.tgtHardTimeoutSeconds * 1000 + 1000);
    const expired = await admin.get('/admin/audit');
    expect(expired.status).toBe(303);
    expect(expired.headers.location).toBe(`/cas/login?service=${encodeURIComponent('/admin/session?next=%2Fadmin%2Faudit')}`);
  });

  it('filters the audit log by event names in the page\'s language, sending the event code', async () => {
    const admin = await consoleLogin(ctx, 'root', 'Granite-Osprey-71');
    await post(admin, '/admin/services', { name: 'intranet', serviceUrl: 'https://intranet.example.org/', enabled: 'true' }, '/admin/services/new');
    const optionsOf = (page: string) => Object.fromEntries([.../<select id="event" name="event"[^>]*>(.*?)<\/select>/s.exec(page)![1].matchAll(/<option value="([^"]*)"[^>]*>([^<]*)<\/option>/g)].map((m) => [m[1], m[2]]));

    const english = optionsOf((await admin.get('/admin/audit')).text);
    expect(english).toMatchObject({ '': 'Any', login: 'Sign-in', account_locked: 'Account locked', service_created: 'Service registered' });
    // Every choice reads as a name, not as the code it sends.
    for (const [code, name] of Object.entries(english)) if (code !== '') expect(name).not.toBe(code);
    const japanese = optionsOf((await admin.get('/admin/audit').set('Accept-Language', 'ja')).text);
    expect(japanese).toMatchObject({ '': 'すべて', login: 'サインイン', account_locked: 'アカウントロック', service_created: 'サービス登録' });
    expect(Object.keys(japanese).sort()).toEqual(Object.keys(english).sort());

    const filtered = await admin.get('/admin/audit?event=service_created');
    expect(filtered.text).toContain('1 events, newest first');
    expect(filtered.text).toContain('<option value="service_created" selected>Service registered</option>');
    expect(filtered.text).toContain('<td>Service registered</td>');
    // A code the console has no name for (an old link) stays the selected filter.
    const unnamed = await admin.get('/admin/audit?event=some_future_event');
    expect(unnamed.text).toContain('0 events, newest first');
    expect(unnamed.text).toContain('<option value="some_future_event" selected>some_future_event</option>');
  });

  it('shows console pages in Japanese', async () => {
    const admin = await consoleLogin(ctx, 'root', 'Granite-Osprey-71');
    const page = await admin.get('/admin/accounts').set('Accept-Language', 'ja');
    expect(page.text).toContain('<html lang="ja">');
    expect(page.text).toContain('<h1>アカウント</h1>');
    expect(page.text).toContain('アカウントを作成');
    // Fixed vocabulary (account sources, audit events) is translated; user data is not.
    await ctx.services.accountService.update((await ctx.services.accountService.findByUsername('plain'))!.id, { displayName: 'Plain User' }, { name: 'root', clientIp: null });
    const list = await admin.get('/admin/accounts').set('Accept-Language', 'ja');
    expect(list.text).toContain('<td>Portcullis（内部）</td>');
    expect(list.text).not.toContain('<td>internal</td>');
    expect(list.text).toContain('<td>Plain User</td>');
    const audit = await admin.get('/admin/audit').set('Accept-Language', 'ja');
    expect(audit.text).toContain('<td>サインイン</td>');
    expect(audit.text).toContain('<td>アカウント変更</td>');
    expect(audit.text).not.toMatch(/<td>(login|account_updated)<\/td>/);
    expect((await admin.get('/admin/audit')).text).toContain('<td>Sign-in</td>');
  });
});
