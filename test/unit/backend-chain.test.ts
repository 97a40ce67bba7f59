import { type AccountLookup, BackendChain } from '../../src/authn/chain';
import type { AuthenticationBackend, BackendOutcome, PasswordCredential } from '../../src/authn/backend';
import type { Account } from '../../src/accounts/account';
import { UnavailableError } from '../../src/shared/errors';
import { usernameKey } from '../../src/shared/username';

/** The backend chain's routing rules (header of src/authn/chain.ts), with fake backends and accounts. */

type Answer = BackendOutcome | 'down';

interface FakeOptions {
  lockout?: boolean;
  claims?: (username: string) => 'only' | 'yes' | 'no';
  canonical?: (username: string) => string;
  resolve?: (username: string) => string;
  /** What authenticate answers, per username asked (default unknown_user). */
  answers?: Record<string, Answer>;
}

interface FakeBackend extends AuthenticationBackend {
  asked: string[];
}

function backend(name: string, options: FakeOptions = {}): FakeBackend {
  const asked: string[] = [];
  const fake: FakeBackend = {
    name,
    lockout: options.lockout ?? true,
    asked,
    claims: options.claims ?? (() => 'yes'),
    canonicalUsername: options.canonical ?? ((u) => u),
    async authenticate(credential: PasswordCredential) {
      asked.push(credential.username);
      const answer = options.answers?.[credential.username] ?? { ok: false, reason: 'unknown_user' };
      if (answer === 'down') throw new UnavailableError(name, `${name} is down`);
      return answer;
    },
    startupCheck: async () => undefined,
    close: async () => undefined,
  };
  const resolve = options.resolve;
  if (resolve) fake.resolveUsername = async (u) => resolve(u);
  return fake;
}

const ok = (username: string, source: string): BackendOutcome => ({ ok: true, principal: { username, source, attributes: {} } });
const bad: BackendOutcome = { ok: false, reason: 'bad_credentials' };

/** Accounts by name (each with its source), counting the lookups. */
function accounts(owners: Record<string, string> = {}): AccountLookup & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    async findByKey(key: string) {
      lookups.push(key);
      const found = Object.entries(owners).find(([username]) => usernameKey(username) === key);
      return found ? account(found[0], found[1]) : null;
    },
  };
}

function account(username: string, source: string): Account {
  return {
    id: 1, username, usernameKey: usernameKey(username), displayName: null, email: null, description: null, role: 'user', enabled: true,
    source, externalId: null, passwordHash: null, mustChangePassword: false, passwordChangedAt: null, lastLoginAt: null, createdAt: 0, updatedAt: 0, version: 1,
  };
}

const realm = (u: string) => (u.includes('@') ? u : `${u}@SAMDOM.TEST`);
const names = (list: AuthenticationBackend[]) => list.map((b) => b.name);
const credential = (username: string) => ({ username, password: 'pw' });

describe('backend chain: routing', () => {
  it('with the internal backend alone, routes to it without looking the account up', async () => {
    const lookup = accounts({ alice: 'internal' });
    const route = await new BackendChain([backend('internal', { lockout: false })], lookup).route('Alice');
    expect(route).toEqual({ backends: [expect.objectContaining({ name: 'internal' })], canonicalUsername: 'Alice', lockout: false });
    expect(lookup.lookups).toEqual([]);
  });

  it("an existing account's source wins, whatever the configured order, and its lockout flag applies", async () => {
    const chain = new BackendChain([backend('internal'), backend('ldap', { lockout: false })], accounts({ alice: 'ldap' }));
    const route = await chain.route('alice');
    expect(names(route.backends)).toEqual(['ldap']);
    expect([route.canonicalUsername, route.lockout]).toEqual(['alice', false]);
  });

  it("finds the account under each candidate's form of the name (alice and alice@REALM)", async () => {
    const chain = new BackendChain([backend('internal'), backend('windows', { canonical: realm })], accounts({ 'alice@SAMDOM.TEST': 'windows' }));
    const route = await chain.route('alice');
    expect(names(route.backends)).toEqual(['windows']);
    expect(route.canonicalUsername).toBe('alice@SAMDOM.TEST');
  });

  it('an account whose source is no longer configured may be answered for by nobody, and still counts for lockout', async () => {
    const route = await new BackendChain([backend('internal'), backend('ldap', { lockout: false })], accounts({ alice: 'old-ldap' })).route('alice');
    expect(route.backends).toEqual([]);
    expect(route.lockout).toBe(true);
  });

  it('a backend that claims a name exclusively answers alone; a backend that declines it is skipped', async () => {
    const windows = backend('windows', { claims: (u) => (u.includes('\\') ? 'only' : 'no'), canonical: (u) => realm(u.split('\\')[1]) });
    const chain = new BackendChain([backend('internal'), backend('ldap'), windows], accounts());
    expect(names((await chain.route('SAMDOM\\alice')).backends)).toEqual(['windows']);
    expect((await chain.route('SAMDOM\\alice')).canonicalUsername).toBe('alice@SAMDOM.TEST');
    expect(names((await chain.route('alice')).backends)).toEqual(['internal', 'ldap']);
  });

  it('without an account, keeps the configured order and counts the name as the first non-internal candidate names it', async () => {
    const chain = new BackendChain([backend('internal', { lockout: false }), backend('windows', { canonical: realm, lockout: false }), backend('ldap')], accounts());
    const route = await chain.route('alice');
    expect(names(route.backends)).toEqual(['internal', 'windows', 'ldap']);
    expect(route.canonicalUsername).toBe('alice@SAMDOM.TEST');
    expect(route.lockout).toBe(true);
  });

  it('lockout is off only when every candidate opts out, and on when nobody may answer', async () => {
    const optOut = new BackendChain([backend('internal', { lockout: false }), backend('ldap', { lockout: false })], accounts());
    expect((await optOut.route('alice')).lockout).toBe(false);
    const nobody = new BackendChain([backend('internal', { claims: () => 'no' }), backend('ldap', { claims: () => 'no', lockout: false })], accounts());
    expect(await nobody.route('alice')).toMatchObject({ backends: [], canonicalUsername: 'alice', lockout: true });
  });

  it('a backend that resolves names asks its directory, and the resolved name keys the account', async () => {
    const windows = backend('windows', { resolve: (u) => (u === 'alice.smith@corp.example' ? 'asmith@SAMDOM.TEST' : realm(u)) });
    const chain = new BackendChain([backend('internal'), windows], accounts({ 'asmith@SAMDOM.TEST': 'windows' }));
    const route = await chain.route('alice.smith@corp.example');
    expect(route.canonicalUsername).toBe('asmith@SAMDOM.TEST');
    expect(route.resolvedNames).toEqual(new Map([['windows', 'asmith@SAMDOM.TEST']]));
  });
});

describe('backend chain: asking the backends', () => {
  it('asks in order until one knows the user, and a refusal from a backend that knows the user is final', async () => {
    const internal = backend('internal');
    const ldap = backend('ldap', { answers: { alice: bad } });
    const last = backend('last', { answers: { alice: ok('alice', 'last') } });
    const chain = new BackendChain([internal, ldap, last], accounts());
    const result = await chain.authenticate(await chain.route('alice'), credential('alice'));
    expect([result.outcome, result.backend?.name]).toEqual([bad, 'ldap']);
    expect([internal.asked, last.asked]).toEqual([['alice'], []]);
  });

  it('gives unknown_user with no backend when nobody knows the user and everyone could be asked', async () => {
    const chain = new BackendChain([backend('internal'), backend('ldap')], accounts());
    expect(await chain.authenticate(await chain.route('ghost'), credential('ghost'))).toEqual({ outcome: { ok: false, reason: 'unknown_user' }, backend: null });
  });

  it('fails closed when a backend is down and nobody else knows the user', async () => {
    const chain = new BackendChain([backend('internal'), backend('ldap', { answers: { alice: 'down' } })], accounts());
    await expect(chain.authenticate(await chain.route('alice'), credential('alice'))).rejects.toThrow(UnavailableError);
  });

  it('does not ask a down backend when an earlier one answered, and takes the answer of a later one that knows the user', async () => {
    const down = backend('down', { answers: { alice: 'down', bob: 'down' } });
    const chain = new BackendChain([backend('internal', { answers: { alice: ok('alice', 'internal') } }), down, backend('ldap', { answers: { bob: bad } })], accounts());
    expect((await chain.authenticate(await chain.route('alice'), credential('alice'))).backend?.name).toBe('internal');
    expect(down.asked).toEqual([]);
    expect(await chain.authenticate(await chain.route('bob'), credential('bob'))).toEqual({ outcome: bad, backend: expect.objectContaining({ name: 'ldap' }) });
  });

  it('lets any other error through rather than treating it as a refusal', async () => {
    const broken = backend('ldap');
    broken.authenticate = async () => {
      throw new TypeError('bug');
    };
    const chain = new BackendChain([backend('internal'), broken], accounts());
    await expect(chain.authenticate(await chain.route('alice'), credential('alice'))).rejects.toThrow(TypeError);
  });

  it('asks a resolving backend with the name it resolved, the others with the typed name', async () => {
    const internal = backend('internal');
    const windows = backend('windows', { resolve: () => 'asmith@SAMDOM.TEST', answers: { 'asmith@SAMDOM.TEST': ok('asmith@SAMDOM.TEST', 'windows') } });
    const chain = new BackendChain([internal, windows], accounts());
    const result = await chain.authenticate(await chain.route('alice.smith@corp.example'), credential('alice.smith@corp.example'));
    expect(result.outcome.ok).toBe(true);
    expect([internal.asked, windows.asked]).toEqual([['alice.smith@corp.example'], ['asmith@SAMDOM.TEST']]);
  });
});
