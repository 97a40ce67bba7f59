import { ConsoleAuth, type ConsoleUser, REAUTH_MS, consolePath } from '../../src/console/session';
import { ManualClock } from '../../src/shared/clock';
import type { ServicePort } from '../../src/cas/login/service-port';
import { TokenSigner } from '../../src/web/signed-token';

const inner: ServicePort = {
  checkService: async () => ({ allowed: false, code: 'not_registered', reason: 'not registered' }),
  issueServiceTicket: async () => 'ST-inner',
  sessionEnded: () => undefined,
};

function auth(publicUrl?: string) {
  const deps = { publicUrl, signer: new TokenSigner(Buffer.alloc(32, 1)), clock: new ManualClock(1_000), sessions: {} as never, accountService: {} as never };
  return new ConsoleAuth(deps).servicePort(inner);
}

describe('console sign-in callback as a service', () => {
  it('is allowed only at the public URL (or as a relative path without one), never on another host', async () => {
    const port = auth('https://sso.example.org');
    expect(await port.checkService('https://sso.example.org/admin/session?next=%2Fadmin')).toMatchObject({ allowed: true });
    for (const other of ['https://evil.test/admin/session?next=%2Fadmin', 'https://sso.example.org.evil.test/admin/session', 'https://sso.example.org/admin/sessionx', '/admin/session?next=%2Fadmin']) {
      expect(await port.checkService(other)).toMatchObject({ allowed: false });
    }
    const relative = auth();
    expect(await relative.checkService('/admin/session?next=%2Fadmin')).toMatchObject({ allowed: true });
    expect(await relative.checkService('https://evil.test/admin/session')).toMatchObject({ allowed: false });
  });

  it('hands the callback a signed token naming the session key, not a service ticket', async () => {
    const port = auth();
    const token = await port.issueServiceTicket({ tgtId: 'TGT-x', ticket: { key: 'abc' } } as never, '/admin/session?next=%2Fadmin', true);
    expect(token).not.toMatch(/^ST-|TGT-x/);
    expect(await port.issueServiceTicket({} as never, 'https://app.example.org/', true)).toBe('ST-inner');
  });

  it('returns only to console paths', () => {
    expect(consolePath('/admin/accounts?role=admin')).toBe('/admin/accounts?role=admin');
    for (const bad of ['https://evil.test/admin', '//evil.test/admin', '/administrator', '/admin/../cas', undefined]) expect(consolePath(bad)).toBe('/admin');
  });
});

describe('pending sensitive actions', () => {
  const clock = new ManualClock(1_000);
  const consoleAuth = new ConsoleAuth({ signer: new TokenSigner(Buffer.alloc(32, 1)), clock, sessions: {} as never, accountService: {} as never });
  const user = (sessionKey: string) => ({ sessionKey }) as ConsoleUser;
  const action = { action: 'password', id: 7, version: 3, form: { password: 'Velvet-Harbor-58-Quartz', mustChangePassword: 'true' } };

  it('opens only for the session it was sealed for, unchanged and within 5 minutes; two seals of one action differ', () => {
    const token = consoleAuth.pendingToken(user('session-a'), action);
    expect(consoleAuth.pendingToken(user('session-a'), action)).not.toBe(token);
    expect(consoleAuth.pendingAction(user('session-a'), token)).toEqual(action);
    expect(consoleAuth.pendingAction(user('session-b'), token)).toBeNull();
    const [iv, tag, sealed] = token.split('.');
    const flipped = Buffer.from(tag, 'base64url');
    flipped[0] ^= 1;
    expect(consoleAuth.pendingAction(user('session-a'), [iv, flipped.toString('base64url'), sealed].join('.'))).toBeNull();
    expect(consoleAuth.pendingAction(user('session-a'), undefined)).toBeNull();
    clock.advance(REAUTH_MS);
    expect(consoleAuth.pendingAction(user('session-a'), token)).toBeNull();
  });
});
