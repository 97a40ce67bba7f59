import { PasswordPolicy } from '../../src/policy/password-policy';
import { passwordPolicySchema } from '../../src/config/schema';

// The rule-by-rule tests below switch the strength estimate off; it has its own tests.
const policy = (overrides = {}) => new PasswordPolicy(passwordPolicySchema.parse({ minStrengthScore: 0, ...overrides }));
const strengthPolicy = (overrides = {}) => new PasswordPolicy(passwordPolicySchema.parse(overrides));
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

  describe('strength (zxcvbn: common, English and Japanese dictionaries)', () => {
    const strength = (password: string, context = {}) => strengthPolicy().check(password, context).find((v) => v.rule === 'min_strength');

    it.each(['Passw0rd2024!', 'Ma4000admin!'])('refuses %s, which passes every other rule, with the estimator feedback', (password) => {
      expect(rules(policy(), password)).toEqual([]);
      const weak = strength(password);
      expect(weak?.feedback?.score).toBeLessThan(3);
      expect(weak?.message).toMatch(/^is too easy to guess \(strength [0-2] of 4, at least 3 needed\): \S/);
      expect(weak?.feedback?.warning ?? weak?.feedback?.suggestions[0]).toBeTruthy();
    });

    it('accepts a strong passphrase', () => {
      expect(strengthPolicy().check('crisp lantern orbit meadow 7', { username: 'alice' })).toEqual([]);
    });

    it('scores a romanised Japanese word (kanojo, in language-ja commonWords, not in the English lists) as guessable', () => {
      expect(strength('Kanojo2024!')).toBeDefined();
      expect(strength('Vqzmek2024!')).toBeUndefined();
    });

    it("uses the user's display name and e-mail local part, and the site words from config", () => {
      expect(strength('Kowalczyk-1987')).toBeUndefined();
      expect(strength('Kowalczyk-1987', { displayName: 'Jan Kowalczyk' })).toBeDefined();
      expect(strength('Kowalczyk-1987', { email: 'kowalczyk@example.test' })).toBeDefined();
      expect(strengthPolicy({ contextWords: ['kowalczyk'] }).check('Kowalczyk-1987').map((v) => v.rule)).toEqual(['min_strength']);
    });

    it('minStrengthScore 0 turns the estimate off, 4 asks for the top score', () => {
      expect(rules(strengthPolicy({ minStrengthScore: 0 }), 'Passw0rd2024!')).toEqual([]);
      expect(rules(strengthPolicy(), 'Sakura2024!')).toEqual([]);
      expect(rules(strengthPolicy({ minStrengthScore: 4 }), 'Sakura2024!')).toEqual(['min_strength']);
    });

    it('estimates only the first 100 characters (a long passphrase costs no more to refuse)', () => {
      const tail = 'Zq8#vLm2@Rt6!Wx4$Ny9%Kp3^Hs7&Jd5*';
      expect(strength(`${'a'.repeat(90)}${tail}`)).toBeUndefined();
      expect(strength(`${'a'.repeat(100)}${tail}`)).toBeDefined();
    });
  });
});
