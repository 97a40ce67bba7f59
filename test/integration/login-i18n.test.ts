import { type TestContext, createTestContext, executionFrom } from '../support/test-app';

describe('login pages in English and Japanese', () => {
  let ctx: TestContext;
  afterEach(() => ctx?.close());

  it('follows Accept-Language, then the switcher cookie; <html lang> matches', async () => {
    ctx = await createTestContext();
    const agent = ctx.agent();
    const ja = await agent.get('/cas/login').set('Accept-Language', 'ja-JP,ja;q=0.9,en;q=0.5');
    expect(ja.text).toContain('<html lang="ja">');
    expect(ja.text).toContain('<title>ログイン · Portcullis</title>');
    expect(ja.text).toContain('>ユーザー名</label>');
    expect(ja.text).not.toContain('Username');

    const en = await agent.get('/cas/login').set('Accept-Language', 'en-GB');
    expect(en.text).toContain('<html lang="en">');
    expect(en.text).toContain('>Username</label>');

    const switched = await agent.get('/language?lang=ja&return=%2Fcas%2Flogin').set('Accept-Language', 'en-GB');
    expect(switched.status).toBe(303);
    expect(switched.headers.location).toBe('/cas/login');
    expect(switched.headers['set-cookie']?.[0]).toMatch(/^PCLANG=ja; Path=\/; Secure; SameSite=Lax/);
    const after = await agent.get('/cas/login').set('Accept-Language', 'en-GB');
    expect(after.text).toContain('<html lang="ja">');

    const offsite = await agent.get('/language?lang=en&return=%2F%2Fevil.test%2F');
    expect(offsite.headers.location).toBe('/cas/login');
  });

  it('uses ui.defaultLanguage when the browser asks for neither language', async () => {
    ctx = await createTestContext({ overrides: { ui: { defaultLanguage: 'ja' } } });
    const page = await ctx.agent().get('/cas/login').set('Accept-Language', 'fr-FR');
    expect(page.text).toContain('<html lang="ja">');
    const notFound = await ctx.agent().get('/nowhere');
    expect(notFound.status).toBe(404);
    expect(notFound.text).toContain('ページが見つかりません');
  });

  it('shows sign-in refusals and broken password rules in Japanese', async () => {
    ctx = await createTestContext();
    await ctx.addUser('hanako', 'Sakura-Lantern-42', { mustChangePassword: true });
    const agent = ctx.agent();
    const form = await agent.get('/cas/login').set('Accept-Language', 'ja');
    const wrong = await agent.post('/cas/login').set('Accept-Language', 'ja').type('form').send({ username: 'hanako', password: 'wrong-password-1', execution: executionFrom(form.text) });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('ユーザー名またはパスワードが正しくありません。');

    const right = await agent.post('/cas/login').set('Accept-Language', 'ja').type('form').send({ username: 'hanako', password: 'Sakura-Lantern-42', execution: executionFrom(form.text) });
    expect(right.text).toContain('パスワードを変更してください');
    const token = /name="token" value="([^"]+)"/.exec(right.text)![1];
    const refused = await agent.post('/cas/password').set('Accept-Language', 'ja').type('form').send({ token, password: 'hanako', confirm: 'hanako' });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('8 文字以上にしてください。');
    expect(refused.text).toContain('ユーザー名を含めることはできません。');
    expect(refused.text).not.toContain('must');
  });

  it('names an unregistered application in the page language', async () => {
    ctx = await createTestContext();
    const page = await ctx.agent().get('/cas/login?service=https%3A%2F%2Fnot-registered.example%2F').set('Accept-Language', 'ja');
    expect(page.status).toBe(400);
    expect(page.text).toContain('許可されていないアプリケーション');
  });
});
