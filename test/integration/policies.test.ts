import { writeFileSync } from 'node:fs';
import path from 'node:path';
import argon2 from 'argon2';
import { createHash } from 'node:crypto';
import { type TestContext, createTestContext, submitLogin } from '../support/test-app';
import { ConflictError } from '../../src/shared/errors';

const privateConfig = (max: number | string, timeout: number | string) =>
  `<configuration><appSettings><add key="MaxAllowedLoginFailureCount" value="${max}"/><add key="UserLockoutTimeout" value="${timeout}"/></appSettings></configuration>`;

async function until(predicate: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const PASSWORD = 'Correct-Horse-7';

describe('lockout policy from private.config', () => {
  let ctx: TestContext;
  const logLines: string[] = [];
  let stopWatching: () => void;
  beforeEach(async () => {
    logLines.length = 0;
    ctx = await createTestContext({ files: { 'private.config': privateConfig(3, 60) }, logLines });
    stopWatching = ctx.services.policy.watch(ctx.configDir, 50);
    await ctx.addUser('alice', PASSWORD);
  });
  afterEach(async () => {
    stopWatching();
    await ctx.close();
  });

  it('picks up an edited private.config without a restart', async () => {
    expect(ctx.services.policy.get().lockout.maxAllowedLoginFailureCount).toBe(3);
    writeFileSync(path.join(ctx.configDir, 'private.config'), privateConfig(5, 60));
    await until(() => ctx.services.policy.get().lockout.maxAllowedLoginFailureCount === 5, 'policy reload');
    const agent = ctx.agent();
    for (let i = 0; i < 4; i++) expect((await submitLogin(agent, 'alice', `wrong-${i}-pw`)).status).toBe(401);
    expect((await submitLogin(agent, 'alice', PASSWORD)).status).toBe(200);
  });

  it('keeps the last good policy when the file becomes malformed, and logs the file and key', async () => {
    writeFileSync(path.join(ctx.configDir, 'private.config'), privateConfig('lots', 60));
    await until(() => logLines.some((l) => l.includes('policy_reload_failed')), 'reload failure log');
    const line = logLines.find((l) => l.includes('policy_reload_failed')) as string;
    expect(line).toContain(path.join(ctx.configDir, 'private.config'));
    expect(line).toContain('MaxAllowedLoginFailureCount');
    expect(ctx.services.policy.get().lockout.maxAllowedLoginFailureCount).toBe(3);
  });

  it('treats MaxAllowedLoginFailureCount=0 as "lockout off"', async () => {
    writeFileSync(path.join(ctx.configDir, 'private.config'), privateConfig(0, 60));
    await until(() => ctx.services.policy.get().lockout.maxAllowedLoginFailureCount === 0, 'policy reload');
    const agent = ctx.agent();
    for (let i = 0; i < 6; i++) expect((await submitLogin(agent, 'alice', `wrong-${i}-pw`)).status).toBe(401);
    expect((await submitLogin(agent, 'alice', PASSWORD)).status).toBe(200);
  });
});

describe('atomic failure counting under concurrency', () => {
  it('counts 50 concurrent wrong attempts exactly (high limit)', async () => {
    const ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 100, userLockoutTimeout: 60 } } });
    try {
      await ctx.addUser('alice', PASSWORD);
      const attempts = Array.from({ length: 50 }, (_, i) => ctx.services.loginService.login({ username: 'alice', password: `wrong-${i}` }, { clientIp: '127.0.0.1', userAgent: null, channel: 'test' }));
      const results = await Promise.all(attempts);
      expect(results.every((r) => r.status === 'invalid')).toBe(true);
      expect((await ctx.services.lockouts.get('alice')).failureCount).toBe(50);
    } finally {
      await ctx.close();
    }
  });

  it('with limit 3, 50 concurrent wrong attempts through HTTP lock the account so the right password is refused', async () => {
    const ctx = await createTestContext({ overrides: { lockout: { maxAllowedLoginFailureCount: 3, userLockoutTimeout: 60 } } });
    try {
      await ctx.addUser('alice', PASSWORD);
      const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => submitLogin(ctx.agent(), 'alice', `wrong-${i}-pw`).then((r) => r.status)));
      expect(statuses.every((s) => s === 401 || s === 423)).toBe(true);
      expect((await submitLogin(ctx.agent(), 'alice', PASSWORD)).status).toBe(423);
    } finally {
      await ctx.close();
    }
  });
});

describe('administrator limit', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
  });
  afterEach(() => ctx.close());
  const actor = { name: 'test' };

  it('refuses a third administrator, naming MaxAdministratorCount, by creation or promotion', async () => {
    await ctx.addUser('admin1', PASSWORD, { role: 'admin' });
    await ctx.addUser('admin2', PASSWORD, { role: 'admin' });
    await expect(ctx.addUser('admin3', PASSWORD, { role: 'admin' })).rejects.toThrow(/MaxAdministratorCount is 2/);
    await ctx.addUser('bob', PASSWORD);
    const bob = await ctx.services.accountService.requireByUsername('bob');
    await expect(ctx.services.accountService.update(bob.id, { role: 'admin' }, actor)).rejects.toBeInstanceOf(ConflictError);
    expect(await ctx.services.accounts.countAdministrators(false)).toBe(2);
    expect(await ctx.services.accountService.findByUsername('admin3')).toBeNull();
  });

  it('holds when creations race', async () => {
    await ctx.addUser('admin1', PASSWORD, { role: 'admin' });
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => ctx.addUser(`racer${i}`, PASSWORD, { role: 'admin' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await ctx.services.accounts.countAdministrators(false)).toBe(2);
  });

  it('never lets the last enabled administrator be disabled, demoted or deleted', async () => {
    await ctx.addUser('root', PASSWORD, { role: 'admin' });
    const root = await ctx.services.accountService.requireByUsername('root');
    const service = ctx.services.accountService;
    await expect(service.update(root.id, { enabled: false }, actor)).rejects.toThrow(/last enabled administrator/);
    await expect(service.update(root.id, { role: 'user' }, actor)).rejects.toThrow(/last enabled administrator/);
    await expect(service.delete(root.id, actor)).rejects.toThrow(/last enabled administrator/);
    await ctx.addUser('second', PASSWORD, { role: 'admin' });
    await service.update(root.id, { enabled: false }, actor);
    const second = await service.requireByUsername('second');
    await expect(service.delete(second.id, actor)).rejects.toThrow(/last enabled administrator/);
  });

  it('enforces usernames unique case-insensitively after normalization', async () => {
    await ctx.addUser('Émile', PASSWORD);
    await expect(ctx.addUser('ÉMILE', PASSWORD)).rejects.toThrow(/already exists/);
    await expect(ctx.addUser('E\u0301mile', PASSWORD)).rejects.toThrow(/already exists/);
  });
});

describe('password hashing', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
  });
  afterEach(() => ctx.close());

  async function insertLegacy(username: string, password: string) {
    const md5 = createHash('md5').update(password).digest('hex');
    await ctx.services.accounts.insert({ username, usernameKey: username, role: 'user', source: 'internal', passwordHash: md5 }, ctx.clock.now());
    return md5;
  }

  it('stores new passwords as Argon2id with the configured parameters', async () => {
    await ctx.addUser('alice', PASSWORD);
    const alice = await ctx.services.accountService.requireByUsername('alice');
    expect(alice.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('verifies a legacy NEC CAS MD5 hash and re-hashes it to Argon2id at the first successful login', async () => {
    const md5 = await insertLegacy('legacy', 'Legacy-Pass-1');
    expect(await ctx.services.accounts.countLegacyHashes()).toBe(1);
    expect((await submitLogin(ctx.agent(), 'legacy', 'wrong-pass-1')).status).toBe(401);
    expect((await ctx.services.accountService.requireByUsername('legacy')).passwordHash).toBe(md5);
    expect((await submitLogin(ctx.agent(), 'legacy', 'Legacy-Pass-1')).status).toBe(200);
    const upgraded = await ctx.services.accountService.requireByUsername('legacy');
    expect(upgraded.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await argon2.verify(upgraded.passwordHash as string, 'Legacy-Pass-1')).toBe(true);
    expect(await ctx.services.accounts.countLegacyHashes()).toBe(0);
    expect((await submitLogin(ctx.agent(), 'legacy', 'Legacy-Pass-1')).status).toBe(200);
  });

  it('spends one Argon2 verification on an unknown user, exactly as on a wrong password', async () => {
    await ctx.addUser('alice', PASSWORD);
    await ctx.services.hasher.warmUp();
    const verify = jest.spyOn(argon2, 'verify');
    const login = (username: string) => ctx.services.loginService.login({ username, password: 'wrong-password' }, { clientIp: null, userAgent: null, channel: 'test' });
    try {
      await login('alice');
      const forWrongPassword = verify.mock.calls.length;
      verify.mockClear();
      await login('nobody-here');
      expect(forWrongPassword).toBe(1);
      expect(verify.mock.calls.length).toBe(forWrongPassword);
      // A legacy account with a wrong password costs the same too.
      await insertLegacy('legacy', 'Legacy-Pass-1');
      verify.mockClear();
      await login('legacy');
      expect(verify.mock.calls.length).toBe(1);
    } finally {
      verify.mockRestore();
    }
  });
});

describe('inactive accounts', () => {
  it('disables accounts unused for InactiveAccountDisableDays, but never the last enabled administrator', async () => {
    const ctx = await createTestContext({ overrides: { accounts: { inactiveAccountDisableDays: 30 } } });
    try {
      await ctx.addUser('root', PASSWORD, { role: 'admin' });
      await ctx.addUser('second', PASSWORD, { role: 'admin' });
      await ctx.addUser('idle', PASSWORD);
      ctx.clock.advance(29 * 86_400_000);
      await ctx.services.loginService.login({ username: 'second', password: PASSWORD }, { clientIp: null, userAgent: null, channel: 'test' });
      expect(await ctx.services.accountService.disableInactiveAccounts()).toBe(0);
      ctx.clock.advance(2 * 86_400_000);
      expect(await ctx.services.accountService.disableInactiveAccounts()).toBe(2);
      const state = async (name: string) => (await ctx.services.accountService.requireByUsername(name)).enabled;
      expect([await state('root'), await state('second'), await state('idle')]).toEqual([false, true, false]);
      // Much later both administrators are idle: one stays enabled.
      ctx.clock.advance(60 * 86_400_000);
      expect(await ctx.services.accountService.disableInactiveAccounts()).toBe(0);
      expect(await state('second')).toBe(true);
      const { events } = await ctx.services.audit.query({ event: 'account_disabled_inactive' });
      expect(events.map((e) => e.username).sort()).toEqual(['idle', 'root']);
    } finally {
      await ctx.close();
    }
  });
});
