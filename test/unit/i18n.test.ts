import { CATALOGUES, LANGUAGES, chooseLanguage, translator } from '../../src/web/i18n';
import { localReturnPath } from '../../src/web/ui';
import { html } from '../../src/web/html';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('message catalogues', () => {
  it('have the same keys in every language, and no empty message', () => {
    const keys = Object.keys(CATALOGUES.en).sort();
    for (const lang of LANGUAGES) {
      const other = Object.keys(CATALOGUES[lang]).sort();
      expect({ lang, missing: keys.filter((k) => !other.includes(k)), extra: other.filter((k) => !keys.includes(k)) }).toEqual({ lang, missing: [], extra: [] });
      for (const [key, text] of Object.entries(CATALOGUES[lang])) expect({ key, empty: text.trim() === '' }).toEqual({ key, empty: false });
    }
  });

  it('use the same placeholders in every language', () => {
    for (const [key, text] of Object.entries(CATALOGUES.en)) {
      expect({ key, ja: placeholders(CATALOGUES.ja[key as keyof typeof CATALOGUES.ja]) }).toEqual({ key, ja: placeholders(text) });
    }
  });

  it('translate Japanese messages into Japanese, not copies of the English text', () => {
    const copies = Object.entries(CATALOGUES.en).filter(([key, text]) => CATALOGUES.ja[key as keyof typeof CATALOGUES.ja] === text && /[A-Za-z]{3}/.test(text.replace(/\{\w+\}/g, '')));
    expect(copies).toEqual([]);
  });

  it('fills placeholders and escapes message text around safe fragments', () => {
    const ja = translator('ja');
    expect(ja.t('policy.min_length', { limit: 12 })).toBe('12 文字以上にしてください。');
    const en = translator('en');
    expect(en.h('loggedIn.text', { username: html`<strong>${'a&b'}</strong>` }).value).toBe(
      'Signed in as <strong>a&#38;b</strong>. Single sign-on is active for the applications that use this service.',
    );
  });
});

describe('language choice', () => {
  it('prefers the switcher cookie, then Accept-Language, then the configured default', () => {
    expect(chooseLanguage('ja', 'en-US,en;q=0.9', 'en')).toBe('ja');
    expect(chooseLanguage(undefined, 'ja-JP,ja;q=0.9,en;q=0.5', 'en')).toBe('ja');
    expect(chooseLanguage(undefined, 'fr-FR, en;q=0.3, ja;q=0.8', 'en')).toBe('ja');
    expect(chooseLanguage(undefined, 'fr-FR', 'ja')).toBe('ja');
    expect(chooseLanguage(undefined, undefined, 'ja')).toBe('ja');
    expect(chooseLanguage('xx', 'en', 'ja')).toBe('en');
  });

  it('returns only to local paths after switching', () => {
    expect(localReturnPath('/cas/login?service=https%3A%2F%2Fapp')).toBe('/cas/login?service=https%3A%2F%2Fapp');
    for (const bad of ['//evil.test/', 'https://evil.test/', '/\\evil.test', undefined, '']) expect(localReturnPath(bad)).toBe('/cas/login');
  });
});
