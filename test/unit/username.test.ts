import { InputError } from '../../src/shared/errors';
import { newUsernameProblem, usernameKey, validateNewUsername, validateUsername } from '../../src/shared/username';

describe('new usernames (PRECIS UsernameCaseMapped-like rules)', () => {
  it.each([
    ['admin\u200b', 'U+200B'], // zero-width space: displays as "admin"
    ['\u202eadmin', 'U+202E'], // right-to-left override
    ['ad\u200dmin', 'U+200D'], // zero-width joiner
    ['ad\ufeffmin', 'U+FEFF'], // zero-width no-break space (BOM; trimmed at either end)
    ['adm\u0085in', 'U+0085'], // NEXT LINE, a C1 control
    ['adm\u009bin', 'U+009B'], // CSI, a C1 control
    ['adm\u3164in', 'U+3164'], // Hangul filler: a letter that shows as nothing
    ['admin\ufe0f', 'U+FE0F'], // variation selector
    ['ad\u00a0min', 'U+00A0'], // no-break space
    ['ad\u2028min', 'U+2028'], // line separator
    ['adm\ue000in', 'U+E000'], // private use
    ['adm\u0378in', 'U+0378'], // unassigned
  ])('refuses %j, naming %s', (name, codePoint) => {
    expect(() => validateNewUsername(name)).toThrow(InputError);
    expect(() => validateNewUsername(name)).toThrow(`contains ${codePoint}, `);
    // Sign-in still accepts the form (it then fails as an unknown or existing name, never crashes).
    expect(validateUsername(name)).toBe(name.normalize('NFC'));
  });

  it('answers 422 naming the username field', () => {
    try {
      validateNewUsername('admin\u200b');
      throw new Error('not refused');
    } catch (error) {
      expect(error).toMatchObject({ status: 422, fields: [{ field: 'username', rule: 'username_characters' }] });
    }
  });

  it.each(['alice', 'O\'Brien', 'first.last@example.test', 'josé', 'Ünïcödé', '山田太郎', 'Ελένη', 'anna maria', 'ｊｏｈｎ'])('accepts %j', (name) => {
    expect(newUsernameProblem(name)).toBeNull();
    expect(validateNewUsername(name)).toBe(name.normalize('NFC'));
  });

  it('keeps one key for names that differ only in width or case', () => {
    expect(usernameKey('ＡＤＭＩＮ')).toBe(usernameKey('admin'));
    expect(usernameKey('Admin')).toBe(usernameKey('admin'));
  });
});
