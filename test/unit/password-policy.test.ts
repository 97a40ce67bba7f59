import { PasswordPolicy } from '../../src/policy/password-policy';
import { passwordPolicySchema } from '../../src/config/schema';

const policy = (overrides = {}) => new PasswordPolicy(passwordPolicySchema.parse(overrides));
const rules = (p: PasswordPolicy, password: string, username?: string) => p.check(password, { username }).map((v) => v.rule);

describe('password policy', () => {
  it('accepts a password that meets every rule', () => {
    expect(rules(policy(), 'Tangerine-Orbit-42', 'alice')).toEqual([]);
  });

  it('requires the minimum length (default 8), counting code points not bytes', () => {
    expect(rules(policy(), 'ab1!xyz')).toEqual(['min_length']);
    expect(rules(policy(), 'ééééééé1')).toEqual([]);
  });

  it('requires a digit or special character', () => {
    expect(rules(policy(), 'onlyletterswordsz')).toEqual(['digit_or_special']);
    expect(rules(policy(), 'letters and 1 digit')).toEqual([]);
    expect(rules(policy(), 'letters-and-dash')).toEqual([]);
    expect(rules(policy({ requireDigitOrSpecial: false }), 'onlyletterswordsz')).toEqual([]);
  });

  it('refuses passwords containing the username, including the bare part of DOMAIN\\user and user@REALM', () => {
    expect(rules(policy(), 'xAlice-2024!', 'alice')).toEqual(['contains_username']);
    expect(rules(policy(), 'xbob1234-long', 'CORP\\bob')).toEqual(['contains_username']);
    expect(rules(policy(), 'xcarol-55555', 'carol@EXAMPLE.TEST')).toEqual(['contains_username']);
  });

  it("blocks common passwords and vendor example passwords such as OW5000's Ow5000db1!", () => {
    expect(rules(policy(), 'Ow5000db1!')).toEqual(['blocklisted']);
    expect(rules(policy(), 'password1')).toEqual(['blocklisted']);
    expect(rules(policy(), 'P@ssw0rd')).toEqual(['blocklisted']);
  });

  it('lists every rule a password breaks', () => {
    const violations = policy().check('alice', { username: 'alice' });
    expect(violations.map((v) => v.rule).sort()).toEqual(['blocklisted', 'contains_username', 'digit_or_special', 'min_length']);
    for (const v of violations) expect(v.message.length).toBeGreaterThan(5);
  });

  it('enforces the maximum length without truncating', () => {
    expect(rules(policy(), `${'a'.repeat(128)}1`)).toEqual(['max_length']);
  });
});
