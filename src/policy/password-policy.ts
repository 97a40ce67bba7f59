import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PasswordPolicyConfig } from '../config/schema';
import { packageRoot } from '../shared/package-root';
import type { BreachedFilter } from './breached-filter';
import { estimateStrength, userInputs } from './strength';

export interface PasswordViolation {
  rule: 'min_length' | 'max_length' | 'digit_or_special' | 'contains_username' | 'blocklisted' | 'reused' | 'control_characters' | 'min_strength' | 'breached';
  message: string;
  /** The number in the rule (length, history size), so pages can say it in their own language. */
  limit?: number;
  unit?: 'characters' | 'bytes';
  /** The strength estimator's own words (min_strength only). */
  feedback?: { score: number; warning: string | null; suggestions: string[] };
}

/** Who the password is for: each of these makes a guess cheaper. */
export interface PasswordContext {
  username?: string;
  displayName?: string | null;
  email?: string | null;
}

function readList(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}

const normalize = (value: string) => value.normalize('NFKC').toLowerCase();

/** Shipped lists plus the operator's optional extra file, matched case-insensitively after NFKC. */
export function loadBlocklist(extraFile?: string): Set<string> {
  const dir = path.join(packageRoot(), 'src', 'policy');
  const entries = [...readList(path.join(dir, 'common-passwords.txt')), ...readList(path.join(dir, 'vendor-example-passwords.txt'))];
  if (extraFile) entries.push(...readList(extraFile));
  return new Set(entries.map(normalize));
}

let shippedBlocklist: Set<string> | undefined;

/**
 * Password strength rules from NEC's guides (length, a digit or special
 * character) plus a blocklist. Every broken rule is reported, not just the first.
 * Lengths count Unicode code points, never bytes, and nothing is truncated.
 */
export class PasswordPolicy {
  private readonly blocklist: Set<string>;

  constructor(
    private readonly config: PasswordPolicyConfig,
    /** The breached-password filter in force, if one was imported. */
    private readonly breached: BreachedFilter | null = null,
  ) {
    if (config.blocklistFile) this.blocklist = loadBlocklist(config.blocklistFile);
    else this.blocklist = shippedBlocklist ??= loadBlocklist();
  }

  check(password: string, context: PasswordContext = {}): PasswordViolation[] {
    const violations: PasswordViolation[] = [];
    const length = [...password].length;
    const c = this.config;
    if (length < c.minLength) violations.push({ rule: 'min_length', message: `must be at least ${c.minLength} characters long`, limit: c.minLength });
    if (length > c.maxLength) violations.push({ rule: 'max_length', message: `must be at most ${c.maxLength} characters long`, limit: c.maxLength });
    // eslint-disable-next-line no-control-regex -- control characters cannot be typed reliably and are refused
    if (/[\u0000-\u001f\u007f]/.test(password)) violations.push({ rule: 'control_characters', message: 'must not contain control characters' });
    if (c.requireDigitOrSpecial && !/[^\p{L}\s]/u.test(password)) {
      violations.push({ rule: 'digit_or_special', message: 'must contain at least one digit or special character' });
    }
    const normalized = normalize(password);
    if (c.forbidUsername && context.username) {
      const name = normalize(context.username);
      // Also the bare name of DOMAIN\user and user@REALM forms.
      const parts = [name, ...name.split(/[\\@]/)].filter((p) => p.length >= 3);
      if (parts.some((part) => normalized.includes(part))) {
        violations.push({ rule: 'contains_username', message: 'must not contain the username' });
      }
    }
    if (c.useBlocklist && this.blocklist.has(normalized)) {
      violations.push({ rule: 'blocklisted', message: 'is too common or a published example password' });
    }
    if (this.breached?.has(password)) violations.push({ rule: 'breached', message: 'has appeared in a data breach' });
    const weak = this.strengthViolation(password, context);
    if (weak) violations.push(weak);
    return violations;
  }

  private strengthViolation(password: string, context: PasswordContext): PasswordViolation | null {
    const min = this.config.minStrengthScore;
    if (min === 0) return null;
    const estimate = estimateStrength(password, userInputs(context, this.config.contextWords));
    if (estimate.score >= min) return null;
    const advice = [estimate.warning, ...estimate.suggestions].filter((s): s is string => !!s).map((s) => s.replace(/\.$/, ''));
    return {
      rule: 'min_strength',
      message: `is too easy to guess (strength ${estimate.score} of 4, at least ${min} needed)${advice.length ? `: ${advice.join('. ')}` : ''}`,
      feedback: { score: estimate.score, warning: estimate.warning, suggestions: estimate.suggestions },
    };
  }
}

export function describeViolations(violations: PasswordViolation[]): string {
  return `The password ${violations.map((v) => v.message).join('; ')}.`;
}
