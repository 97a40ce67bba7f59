import { type TestContext, createTestContext } from '../support/test-app';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { totpCode } from '../../src/mfa/totp';

/**
 * A sign-in reads the account and the kinds of second factor it has enrolled
 * in one statement (the login's own account read), not with a second query,
 * on SQLite and PostgreSQL (PORTCULLIS_TEST_DB=postgres).
 */

const PASSWORD = 'Correct-Horse-7';
const who = { clientIp: null, userAgent: null, channel: 'test' };

describe('the sign-in account read', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ overrides: { mfa: { require: 'never' } } });
    for (const name of ['alice', 'bob', 'carol']) await ctx.addUser(name, PASSWORD);
    const bob = await ctx.services.accountService.requireByUsername('bob');
    const { secret } = await ctx.services.mfa.beginTotp(bob);
    expect(await ctx.services.mfa.confirmTotp(bob, secret, totpCode(secret, ctx.clock.now()), 'phone', who)).not.toBeNull();
    const carol = await ctx.services.accountService.requireByUsername('carol');
    const credential = new SoftAuthenticator(ctx.url).register(await ctx.services.webauthn.registrationOptions(carol));
    expect(await ctx.services.webauthn.register(carol, credential, 'Desk key', who)).not.toBeNull();
  });
  afterAll(() => ctx.close());

  it('returns the enrolled factor kinds with the account', async () => {
    const kinds = async (key: string) => {
      const found = await ctx.services.accounts.findByKeyWithFactors(key);
      return found && { username: found.account.username, factors: [...found.factors].sort() };
    };
    expect(await kinds('alice')).toEqual({ username: 'alice', factors: [] });
    expect(await kinds('bob')).toEqual({ username: 'bob', factors: ['recovery', 'totp'] });
    expect(await kinds('carol')).toEqual({ username: 'carol', factors: ['recovery', 'webauthn'] });
    expect(await kinds('nobody')).toBeNull();
  });

  it('sends no statement of its own for the factors during a password sign-in', async () => {
    const statements: string[] = [];
    const record = (query: { sql: string }) => statements.push(query.sql);
    ctx.services.db.knex.on('query', record);
    try {
      const result = await ctx.services.loginService.login({ username: 'bob', password: PASSWORD }, who);
      expect(result).toMatchObject({ status: 'success', factors: expect.arrayContaining(['totp', 'recovery']) });
    } finally {
      ctx.services.db.knex.off('query', record);
    }
    const factorReads = statements.filter((sql) => /mfa_factors/i.test(sql));
    expect(factorReads.length).toBeGreaterThan(0);
    expect(factorReads.filter((sql) => !/from\s+["`[]?accounts/i.test(sql))).toEqual([]);
  });
});
