import Negotiator from 'negotiator';
import { type SafeHtml, html } from './html';
import en from './locales/en.json';
import ja from './locales/ja.json';

/**
 * Message catalogues and language choice for every page people see. Keys are
 * the English catalogue's; the Japanese one must have exactly the same keys
 * (checked by the type below and by test/unit/i18n.test.ts). CAS protocol
 * responses and problem+json types never go through here.
 */
export const LANGUAGES = ['en', 'ja'] as const;
export type Language = (typeof LANGUAGES)[number];
export type MessageKey = keyof typeof en;
type Catalogue = Record<MessageKey, string>;

export const CATALOGUES: Record<Language, Catalogue> = { en, ja: ja satisfies Catalogue };

/** Cookie set by the language switcher; readable by every path (the console too). */
export const LANGUAGE_COOKIE = 'PCLANG';

export type Vars = Record<string, string | number>;

export interface Translator {
  lang: Language;
  /** The message with `{name}` placeholders filled in (plain text; the html tag escapes it). */
  t(key: MessageKey, vars?: Vars): string;
  /** The message escaped, with placeholders replaced by already-safe fragments (e.g. `<strong>`). */
  h(key: MessageKey, vars: Record<string, SafeHtml>): SafeHtml;
}

function fill(text: string, vars: Vars | undefined): string {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export function translator(lang: Language): Translator {
  const catalogue = CATALOGUES[lang];
  return {
    lang,
    t: (key, vars) => fill(catalogue[key], vars),
    h(key, vars) {
      const parts = catalogue[key].split(/(\{\w+\})/);
      return html`${parts.map((part) => {
        const name = /^\{(\w+)\}$/.exec(part)?.[1];
        return name && vars[name] ? vars[name] : part;
      })}`;
    },
  };
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(CATALOGUES.en, key);
}

export function isLanguage(value: string | undefined): value is Language {
  return value !== undefined && (LANGUAGES as readonly string[]).includes(value);
}

/**
 * The page language: the switcher's cookie, else the browser's
 * Accept-Language (negotiated by `negotiator`), else the configured default.
 */
export function chooseLanguage(cookie: string | undefined, acceptLanguage: string | undefined, fallback: Language): Language {
  if (isLanguage(cookie)) return cookie;
  if (!acceptLanguage) return fallback;
  const chosen = new Negotiator({ headers: { 'accept-language': acceptLanguage } }).language([...LANGUAGES]);
  return isLanguage(chosen) ? chosen : fallback;
}
