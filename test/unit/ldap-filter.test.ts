import { AndFilter, BerWriter, EqualityFilter, ExtensibleFilter, type Filter, NotFilter, OrFilter, PresenceFilter, SubstringFilter } from 'ldapts';
import { FilterTemplate, escapeDnValue, escapeFilterValue, fillDnTemplate } from '../../src/authn/ldap/ldap-filter';

/** The bytes a filter puts on the wire: two filters are the same request when these are equal. */
function ber(filter: Filter): string {
  const writer = new BerWriter();
  filter.write(writer);
  return writer.buffer.toString('hex');
}

describe('escapeFilterValue (RFC 4515 §3, for logs)', () => {
  it('escapes \\ * ( ) and NUL as two hex digits, and nothing else', () => {
    expect(escapeFilterValue('a\\b*c(d)e\u0000f')).toBe('a\\5cb\\2ac\\28d\\29e\\00f');
    expect(escapeFilterValue('plain name, with = + < > ; " # and ü')).toBe('plain name, with = + < > ; " # and ü');
  });
});

describe('escapeDnValue (RFC 4514 §2.4, for DN templates)', () => {
  it.each([
    ['back\\slash', 'back\\\\slash'],
    ['com,ma', 'com\\,ma'],
    ['plus+sign', 'plus\\+sign'],
    ['quo"te', 'quo\\"te'],
    ['less<than', 'less\\<than'],
    ['greater>than', 'greater\\>than'],
    ['semi;colon', 'semi\\;colon'],
    ['equals=sign', 'equals\\=sign'],
    ['#hash', '\\#hash'],
    [' leading', '\\ leading'],
    ['trailing ', 'trailing\\ '],
    ['nul\u0000byte', 'nul\\00byte'],
  ])('%j → %j', (value, escaped) => {
    expect(escapeDnValue(value)).toBe(escaped);
  });

  it('leaves a # or space inside the value, and non-ASCII, as they are', () => {
    expect(escapeDnValue('a#b c')).toBe('a#b c');
    expect(escapeDnValue('Jürgen 名前')).toBe('Jürgen 名前');
  });

  it('fillDnTemplate escapes every value and keeps the template text and unknown placeholders', () => {
    expect(fillDnTemplate('uid={{username}},ou=people,dc=example,dc=test', { username: 'x,ou=services' })).toBe('uid=x\\,ou\\=services,ou=people,dc=example,dc=test');
    expect(fillDnTemplate('{{username}}@EXAMPLE.COM {{other}}', { username: 'alice' })).toBe('alice@EXAMPLE.COM {{other}}');
  });
});

describe('FilterTemplate', () => {
  const injection = '*)(uid=*))(|(uid=*';

  it('inserts a value as one assertion value: an injection attempt is the same request as a plain equality filter', () => {
    const template = FilterTemplate.parse('(uid={{username}})', ['username']);
    for (const value of [injection, 'a\\b', 'nul\u0000', '*', 'Jürgen 名前']) {
      expect(ber(template.render({ username: value }))).toBe(ber(new EqualityFilter({ attribute: 'uid', value })));
    }
  });

  it('keeps the template structure (and, or, not, presence, substring, extensible) around inserted values', () => {
    const template = FilterTemplate.parse('(&(objectClass=person)(|(uid={{username}})(mail={{username}}@example.test))(!(cn=x*))(memberOf:1.2.840.113556.1.4.1941:={{username}}))', ['username']);
    const expected = new AndFilter({
      filters: [
        new EqualityFilter({ attribute: 'objectClass', value: 'person' }),
        new OrFilter({ filters: [new EqualityFilter({ attribute: 'uid', value: injection }), new EqualityFilter({ attribute: 'mail', value: `${injection}@example.test` })] }),
        new NotFilter({ filter: new SubstringFilter({ attribute: 'cn', initial: 'x', any: [], final: '' }) }),
        new ExtensibleFilter({ matchType: 'memberOf', rule: '1.2.840.113556.1.4.1941', value: injection, dnAttributes: false }),
      ],
    });
    expect(ber(template.render({ username: injection }))).toBe(ber(expected));
    expect(ber(FilterTemplate.parse('(uid=*)', []).render({}))).toBe(ber(new PresenceFilter({ attribute: 'uid' })));
  });

  it("decodes the template's own escapes as UTF-8 bytes, and only the template's", () => {
    const template = FilterTemplate.parse('(cn=caf\\c3\\a9 \\2a \\5c41 {{username}})', ['username']);
    expect(ber(template.render({ username: '\\2a' }))).toBe(ber(new EqualityFilter({ attribute: 'cn', value: 'café * \\41 \\2a' })));
  });

  it('describe() shows the filter with values escaped, for logs', () => {
    expect(FilterTemplate.parse('(uid={{username}})', ['username']).describe({ username: injection })).toBe('(uid=\\2a\\29\\28uid=\\2a\\29\\29\\28|\\28uid=\\2a)');
  });

  it.each([
    ['(uid={{user}})', /unknown placeholder \{\{user\}\}/],
    ['(uid={{username}}', /not a valid LDAP filter/],
    ['(&(uid={{username}})', /not a valid LDAP filter/],
    ['(uid=\\zz{{username}})', /not a valid LDAP filter/],
    ['((uid={{username}}))', /not a valid LDAP filter/],
  ])('refuses %j with a readable reason', (text, reason) => {
    expect(() => FilterTemplate.parse(text, ['username'])).toThrow(reason);
  });
});
