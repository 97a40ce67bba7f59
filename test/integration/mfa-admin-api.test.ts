import { totpCode } from '../../src/mfa/totp';
import { type TestContext, createTestContext } from '../support/test-app';
import { type ApiClient, adminAndUser } from '../support/admin-api';

/**
 * Second factors through the administration API: an administrator lists an
 * account's factors (never a secret), removes one, resets all (audited with
 * the administrator); an account enrols its own authenticator app (begin,
 * confirm with a code) and removes a factor only with a current code.
 */

const STEP = 30_000;

describe('administration API: second factors', () => {
  let ctx: TestContext;
  let admin: ApiClient;
  let user: ApiClient;
  beforeEach(async () => {
    ctx = await createTestContext({ overrides: { mfa: { require: 'never' }, lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 900 } } });
    ctx.clock.advance(STEP - (ctx.clock.now() % STEP) + STEP / 2);
    ({ admin, user } = await adminAndUser(ctx));
  });
  afterEach(() => ctx.close());

  /** alice enrols an authenticator app through /me/factors; returns its secret, the answer and the begin answer. */
  async function enrol(name = 'phone') {
    const begin = await user.post('/me/factors', {});
    expect(begin.status).toBe(200);
    const { secret, otpauthUri, qrSvg, enrolment } = begin.body;
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/.*secret=/);
    expect(qrSvg).toMatch(/^<svg/);
    const done = await user.post('/me/factors/confirm', { enrolment, code: totpCode(secret, ctx.clock.now()), name });
    ctx.clock.advance(STEP);
    return { secret: secret as string, done, enrolment: enrolment as string };
  }

  it('enrols your own authenticator app: nothing stored before a right code, recovery codes with the first factor only', async () => {
    const begin = await user.post('/me/factors', { type: 'totp' });
    const wrong = await user.post('/me/factors/confirm', { enrolment: begin.body.enrolment, code: '000000' });
    expect(wrong.status).toBe(422);
    expect(wrong.body.type).toMatch(/invalid-otp$/);
    expect((await user.get('/me/factors')).body.items).toEqual([]);
    // Another account cannot confirm alice's enrolment.
    const stolen = await admin.post('/me/factors/confirm', { enrolment: begin.body.enrolment, code: totpCode(begin.body.secret, ctx.clock.now()) });
    expect(stolen.status).toBe(422);
    expect(stolen.body.type).toMatch(/enrolment-invalid$/);

    const { done } = await enrol();
    expect(done.status).toBe(201);
    expect(done.body.factor).toMatchObject({ type: 'totp', name: 'phone' });
    expect(done.body.recoveryCodes).toHaveLength(10);
    const second = (await enrol('tablet')).done;
    expect(second.body.recoveryCodes).toEqual([]);
    const mine = await user.get('/me/factors');
    expect(mine.body.items.map((f: { name: string }) => f.name)).toEqual(['phone', 'tablet']);
    expect(mine.body.recoveryCodesLeft).toBe(10);
  });

  it('lets an administrator list factors (no secrets), by id and by name, remove one and reset all, audited with the administrator', async () => {
    const { secret } = await enrol();
    const alice = await ctx.services.accountService.requireByUsername('alice');
    const listed = await admin.get(`/accounts/${alice.id}/factors`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([{ id: expect.any(Number), type: 'totp', name: 'phone', createdAt: expect.any(String), lastUsedAt: expect.any(String) }]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(JSON.stringify(listed.body)).not.toMatch(/v1\./);
    expect((await admin.get('/accounts/by-name/ALICE/factors')).body).toEqual(listed.body);
    expect((await user.get(`/accounts/${alice.id}/factors`)).status).toBe(403);

    const factorId = listed.body.items[0].id;
    expect((await admin.delete(`/accounts/by-name/alice/factors/${factorId + 1000}`)).status).toBe(404);
    expect((await admin.delete(`/accounts/by-name/alice/factors/${factorId}`)).status).toBe(204);
    const removed = await ctx.services.audit.query({ username: 'alice', event: 'mfa_removed' });
    expect(removed.events[0].actor).toBe('root');
    // The last factor took the recovery codes with it.
    expect((await admin.get(`/accounts/${alice.id}/factors`)).body).toMatchObject({ items: [], recoveryCodesLeft: 0 });

    await enrol();
    const reset = await admin.post(`/accounts/${alice.id}/factors/reset`);
    expect(reset.status).toBe(200);
    expect(reset.body.removed).toBe(11);
    expect((await ctx.services.audit.query({ username: 'alice', event: 'mfa_reset' })).events[0].actor).toBe('root');
    expect((await ctx.services.mfa.list(alice.id))).toEqual([]);
  });

  it('removes your own factor only with a current code; a wrong code counts toward the lockout', async () => {
    const { secret } = await enrol();
    const factorId = (await user.get('/me/factors')).body.items[0].id;
    expect((await user.delete(`/me/factors/${factorId + 1000}`).set('X-Portcullis-OTP', '123456')).status).toBe(404);
    const noCode = await user.delete(`/me/factors/${factorId}`);
    expect(noCode.status).toBe(401);
    expect(noCode.body.type).toMatch(/mfa-required$/);
    const wrong = await user.delete(`/me/factors/${factorId}`).set('X-Portcullis-OTP', '123456');
    expect(wrong.status).toBe(403);
    expect((await ctx.services.audit.query({ username: 'alice', event: 'mfa_failed' })).total).toBe(1);
    expect((await user.get('/me/factors')).body.items).toHaveLength(1);
    const right = await user.delete(`/me/factors/${factorId}`).set('X-Portcullis-OTP', totpCode(secret, ctx.clock.now()));
    expect(right.status).toBe(204);
    expect((await user.get('/me/factors')).body.items).toEqual([]);
  });

  it('describes the factor calls in the OpenAPI document', async () => {
    const paths = (await admin.get('/openapi.json')).body.paths;
    for (const path of ['/me/factors', '/me/factors/confirm', '/me/factors/{factorId}', '/accounts/{id}/factors', '/accounts/{id}/factors/{factorId}', '/accounts/{id}/factors/reset', '/accounts/by-name/{username}/factors/{factorId}']) {
      expect(paths).toHaveProperty([path]);
    }
    expect(paths['/accounts/by-name/{username}/factors/{factorId}'].delete.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['factorId', 'username']);
  });
});
