import type { Account } from '../accounts/account';
import { newUsernameProblem } from '../shared/username';

/** What `user audit-names` needs of the account store: pages in username order. */
export interface AccountPages {
  list(filter: { offset: number; limit: number }): Promise<{ accounts: Account[] }>;
}

const PAGE = 1000;

/** The name JSON-quoted, with every character the rules refuse written as an escape, so a terminal shows it. */
export function quoteName(name: string): string {
  let out = '';
  for (const ch of JSON.stringify(name)) {
    const hex = (ch.codePointAt(0) as number).toString(16).padStart(4, '0');
    out += newUsernameProblem(ch) ? (ch.length === 1 ? `\\u${hex}` : `\\u{${hex}}`) : ch;
  }
  return out;
}

/**
 * `portcullis user audit-names`: lists existing accounts whose names the
 * new-name rules (src/shared/username.ts) would refuse today, with the
 * reason. Read-only: such accounts keep working and are not renamed; an
 * administrator decides. Returns how many were found.
 */
export async function auditNames(accounts: AccountPages, out: (text: string) => void): Promise<number> {
  let found = 0;
  let checked = 0;
  for (let offset = 0; ; offset += PAGE) {
    const page = (await accounts.list({ offset, limit: PAGE })).accounts;
    for (const account of page) {
      const problem = newUsernameProblem(account.username);
      if (problem) {
        found++;
        out(`${quoteName(account.username)}\tid=${account.id}\tsource=${account.source}\t${problem}\n`);
      }
    }
    checked += page.length;
    if (page.length < PAGE) break;
  }
  out(`${found} of ${checked} account names would be refused as new names\n`);
  return found;
}
