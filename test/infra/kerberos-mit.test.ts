/**
 * The windows backend against a plain MIT Kerberos realm (EXAMPLE.TEST, KDC
 * on 127.0.0.1:8888, started by scripts/test-servers/up.sh): password checks
 * verified with the HTTP/localhost keytab, and SPNEGO. A separate file from
 * the Samba tests because Kerberos settings are process-wide.
 */
import { type TestContext, createTestContext } from '../support/test-app';
import { directoryEnv } from '../support/directory-env';
import { kinit, negotiateToken } from '../support/directory-kerberos';

const mit = directoryEnv().mitKdc;
const context = { clientIp: '127.0.0.1', userAgent: 'jest', channel: 'test' };

describe('windows backend on an MIT Kerberos realm', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({
      overrides: {
        authentication: {
          backends: [{ type: 'windows', name: 'kerberos', realm: mit.realm, krb5Config: mit.krb5Conf, keytab: mit.keytab, servicePrincipal: mit.servicePrincipal, spnego: true }],
        },
      },
    });
  });
  afterAll(() => ctx.close());

  test('right password signs in as user@REALM (bare name and user@realm)', async () => {
    for (const name of ['alice', `alice@${mit.realm.toLowerCase()}`]) {
      expect(await ctx.services.loginService.login({ username: name, password: mit.users.alice.password }, context)).toMatchObject({
        status: 'success',
        account: { username: mit.users.alice.principal, source: 'kerberos' },
      });
    }
  });

  test('wrong password and unknown principal are refused, audited with their reasons', async () => {
    expect((await ctx.services.loginService.login({ username: 'bob', password: 'wrong' }, context)).status).toBe('invalid');
    const { events } = await ctx.services.audit.query({ event: 'login', username: mit.users.bob.principal, limit: 1 });
    expect(events[0]).toMatchObject({ outcome: 'failure', backend: 'kerberos', details: { reason: 'bad_credentials' } });
    expect((await ctx.services.loginService.login({ username: 'nosuchprincipal', password: 'x-y-z' }, context)).status).toBe('invalid');
  });

  test('SPNEGO with a ticket from kinit', async () => {
    const ccache = await kinit(mit.users.bob.principal, mit.users.bob.password, mit.krb5Conf);
    const res = await ctx.agent().get('/cas/login').set('Authorization', `Negotiate ${await negotiateToken(ccache, mit.krb5Conf)}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(mit.users.bob.principal);
  });
});
