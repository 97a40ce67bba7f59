import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * NEC CAS keeps its tunables in `private.config`, a .NET appSettings file:
 *   <configuration><appSettings><add key="MaxAllowedLoginFailureCount" value="3"/>…
 * This maps the keys Portcullis understands onto config paths.
 */
export const PRIVATE_CONFIG_KEYS = {
  MaxAllowedLoginFailureCount: ['lockout', 'maxAllowedLoginFailureCount'],
  UserLockoutTimeout: ['lockout', 'userLockoutTimeout'],
  MaxAdministratorCount: ['administrators', 'maxAdministratorCount'],
  InactiveAccountDisableDays: ['accounts', 'inactiveAccountDisableDays'],
  PasswordMinLength: ['password', 'minLength'],
  PasswordMaxAgeDays: ['password', 'maxAgeDays'],
  PasswordHistorySize: ['password', 'historySize'],
  PasswordMinStrengthScore: ['password', 'minStrengthScore'],
} as const;

export type PrivateConfigKey = keyof typeof PRIVATE_CONFIG_KEYS;

export interface PrivateConfigEntry {
  key: PrivateConfigKey;
  path: readonly [string, string];
  value: number;
}

/** Parses the XML; returns the entries or a list of problems, each naming the file (and key). */
export function parsePrivateConfig(xml: string, file: string): { entries: PrivateConfigEntry[]; problems: string[] } {
  const problems: string[] = [];
  // DOCTYPE would allow entity expansion tricks; appSettings files never need it.
  if (/<!DOCTYPE/i.test(xml)) return { entries: [], problems: [`${file}: DOCTYPE declarations are not allowed`] };
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    return { entries: [], problems: [`${file}: malformed XML at line ${valid.err.line}: ${valid.err.msg}`] };
  }
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    processEntities: true,
    isArray: (name) => name === 'add',
  }).parse(xml) as { configuration?: { appSettings?: { add?: Record<string, unknown>[] } | string } };
  const settings = doc.configuration?.appSettings;
  if (doc.configuration === undefined) return { entries: [], problems: [`${file}: root element must be <configuration>`] };
  const adds = typeof settings === 'object' && settings !== null ? (settings.add ?? []) : [];
  const seen = new Set<string>();
  const entries: PrivateConfigEntry[] = [];
  for (const add of adds) {
    const key = add.key;
    const raw = add.value;
    if (typeof key !== 'string') {
      problems.push(`${file}: <add> without a key attribute`);
      continue;
    }
    if (!(key in PRIVATE_CONFIG_KEYS)) {
      problems.push(`${file}: unknown key "${key}" (known: ${Object.keys(PRIVATE_CONFIG_KEYS).join(', ')})`);
      continue;
    }
    if (seen.has(key)) {
      problems.push(`${file}: key "${key}" is set more than once`);
      continue;
    }
    seen.add(key);
    const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
    if (!/^\d{1,10}$/.test(text)) {
      problems.push(`${file}: key "${key}" needs a whole number value, got "${String(raw ?? '')}"`);
      continue;
    }
    const typedKey = key as PrivateConfigKey;
    entries.push({ key: typedKey, path: PRIVATE_CONFIG_KEYS[typedKey], value: Number(text) });
  }
  return { entries, problems };
}
