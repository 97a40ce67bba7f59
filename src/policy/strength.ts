import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';
import * as japanese from '@zxcvbn-ts/language-ja';

/** The estimator sees at most this many characters, so a long passphrase costs no more to check than a 100-character one. */
export const STRENGTH_INPUT_LIMIT = 100;

export interface StrengthEstimate {
  /** zxcvbn score: 0 (too guessable) … 4 (very unguessable). */
  score: 0 | 1 | 2 | 3 | 4;
  warning: string | null;
  suggestions: string[];
}

/**
 * language-ja 3.0.2 (the latest) predates core 4, but its dictionaries are
 * plain word lists, which core 4 accepts. Its keys lack the "-en"-style
 * language suffix, so they are renamed to keep the two languages apart.
 */
function japaneseDictionaries(): Record<string, string[]> {
  return Object.fromEntries(Object.entries(japanese.dictionary).map(([name, words]) => [`${name}-ja`, words]));
}

let estimator: ZxcvbnFactory | undefined;

/** Built once per process: ranking the ~100,000 dictionary words takes a moment. */
function zxcvbn(): ZxcvbnFactory {
  return (estimator ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...english.dictionary, ...japaneseDictionaries() },
    graphs: common.adjacencyGraphs,
    translations: english.translations,
    maxLength: STRENGTH_INPUT_LIMIT,
    // The default (100 substitution combinations) costs hundreds of ms per check; two still catch Passw0rd and P@ssw0rd.
    l33tMaxSubstitutions: 2,
  }));
}

/** Loads the dictionaries now rather than on the first password change. */
export function warmUpStrengthEstimator(): void {
  zxcvbn();
}

/**
 * Words that make a guess cheaper for this user: the name, its bare part in
 * DOMAIN\user and user@REALM forms, the display name's words, the e-mail's
 * local part, and the site's own words.
 */
export function userInputs(context: { username?: string; displayName?: string | null; email?: string | null }, siteWords: readonly string[]): string[] {
  const words = new Set<string>(siteWords.map((w) => w.toLowerCase()));
  const add = (value: string | null | undefined) => {
    if (!value) return;
    const lower = value.toLowerCase();
    words.add(lower);
    for (const part of lower.split(/[\s\\@._-]+/)) if (part.length >= 3) words.add(part);
  };
  add(context.username);
  add(context.displayName);
  add(context.email?.split('@')[0]);
  return [...words];
}

/**
 * zxcvbn credits every extra token in a password with at least 10,000
 * guesses, so a known site or personal word in front of a weak rest
 * (`Ma4000admin!`) scores as if it were random. An attacker targeting this
 * site tries those words first, so the password is also scored without them
 * and the weaker score counts.
 */
export function estimateStrength(password: string, inputs: string[]): StrengthEstimate {
  // Code points, not UTF-16 units, so a surrogate pair is never cut in half.
  const bounded = [...password].slice(0, STRENGTH_INPUT_LIMIT).join('');
  const whole = check(bounded, inputs);
  const rest = withoutWords(bounded, inputs);
  if (rest === bounded || rest.length === 0) return whole;
  const stripped = check(rest, inputs);
  if (stripped.score >= whole.score) return whole;
  return { ...stripped, warning: stripped.warning ?? english.translations.warnings.userInputs };
}

function check(password: string, inputs: string[]): StrengthEstimate {
  const result = zxcvbn().check(password, inputs);
  return { score: result.score, warning: result.feedback.warning, suggestions: result.feedback.suggestions };
}

/** The password with every occurrence of the given words (3+ characters, any case) removed. */
function withoutWords(password: string, words: string[]): string {
  const lower = password.toLowerCase();
  const keep = new Array<boolean>(password.length).fill(true);
  for (const word of words) {
    if (word.length < 3) continue;
    for (let at = lower.indexOf(word); at !== -1; at = lower.indexOf(word, at + 1)) keep.fill(false, at, at + word.length);
  }
  // A few characters change length when lowercased; such a password is scored whole.
  if (lower.length !== password.length) return password;
  // Indexes are UTF-16 units; a match covers whole characters, so no surrogate pair is split.
  return password.split('').filter((_, i) => keep[i]).join('');
}
