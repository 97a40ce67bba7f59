import { passwordPolicySchema } from '../../src/config/schema';
import { PasswordPolicy } from '../../src/policy/password-policy';
import { CompliantPasswords, stalePasswordCheck } from '../../src/policy/stale-password';
import type { Account } from '../../src/accounts/account';

const account = (overrides: Partial<Account> = {}): Account =>
  ({ id: 7, username: 'alice', source: 'internal', mustChangePassword: false, passwordHash: '$argon2id$one', displayName: null, email: null, ...overrides }) as Account;

describe('stalePasswordCheck', () => {
  const policy = new PasswordPolicy(passwordPolicySchema.parse({}));
  let builds = 0;
  const factory = () => {
    builds++;
    return policy;
  };
  beforeEach(() => (builds = 0));

  it("lists the rules today's policy finds broken, only for internal accounts not already due to change", () => {
    expect(stalePasswordCheck(factory, account(), 'password1')).toEqual(['blocklisted', 'min_strength']);
    expect(stalePasswordCheck(factory, account({ source: 'ldap' }), 'password1')).toEqual([]);
    expect(stalePasswordCheck(factory, account({ mustChangePassword: true }), 'password1')).toEqual([]);
    expect(builds).toBe(1);
  });

  it('remembers a compliant password for the same hash, names and policy, and checks again when any of them changes', () => {
    const compliant = new CompliantPasswords();
    const check = (a: Account, policyKey: string) => stalePasswordCheck(factory, a, 'Velvet-Orchard-Compass-52', { compliant, policyKey });
    expect(check(account(), 'p1')).toEqual([]);
    expect(check(account(), 'p1')).toEqual([]);
    expect(builds).toBe(1);
    check(account(), 'p2');
    check(account({ passwordHash: '$argon2id$two' }), 'p2');
    expect(check(account({ displayName: 'Velvet Orchard Compass' }), 'p2')).toEqual(['min_strength']);
    expect(builds).toBe(4);
  });

  it('forgets the oldest keys beyond its limit', () => {
    const compliant = new CompliantPasswords(2);
    for (const key of ['a', 'b', 'c']) compliant.add(key);
    expect(['a', 'b', 'c'].map((k) => compliant.has(k))).toEqual([false, true, true]);
  });
});
