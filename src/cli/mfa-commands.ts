import path from 'node:path';
import type { Who } from '../mfa/mfa-service';
import type { Services } from '../services';
import type { Command } from './command-table';
import { CLI_ACTOR, type CliContext } from './context';

const CLI_WHO: Who = { clientIp: null, userAgent: null, channel: 'cli', actor: CLI_ACTOR.name };

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

/** Re-seals every TOTP secret with the key in `file` (created, mode 0600, when missing); returns how many. */
async function rotateKey(s: Services, file: string): Promise<number> {
  const { SecretBox, readOrCreateKeyFile } = await import('../mfa/secret-box');
  const next = new SecretBox(readOrCreateKeyFile(file));
  // One transaction: a secret that cannot be opened with the current key aborts the whole rotation.
  return s.factors.resealAll((sealed, accountId) => next.seal(s.secretBox.open(sealed, accountId), accountId));
}

/** `portcullis user mfa …` and `portcullis mfa …`: second factors from the command line. */
export const MFA_COMMANDS: Command<CliContext>[] = [
  {
    name: 'user mfa list',
    args: 'NAME',
    summary: "an account's second factors (never their secrets) and unused recovery codes",
    async run({ positionals: [name] }, ctx) {
      await ctx.withServices(async (s) => {
        const account = await s.accountService.requireByUsername(name);
        const factors = await s.mfa.list(account.id);
        const shown = factors.filter((f) => f.kind !== 'recovery');
        if (shown.length === 0) ctx.io.out(`${account.username} has no second factor\n`);
        for (const f of shown) ctx.io.out(`${f.id}\t${f.kind}\t${f.name}\tcreated=${iso(f.createdAt)}\tlast-used=${iso(f.lastUsedAt)}\n`);
        const review = (await s.mfa.needsReview(account.id)) ? '\tneeds-review (a recovery code was used)' : '';
        ctx.io.out(`recovery-codes-left=${factors.length - shown.length}${review}\n`);
      });
    },
  },
  {
    name: 'user mfa reset',
    args: 'NAME',
    summary: 'remove every second factor and recovery code of an account (a lost phone); it enrols again at its next sign-in',
    async run({ positionals: [name] }, ctx) {
      await ctx.withServices(async (s) => {
        const account = await s.accountService.requireByUsername(name);
        const removed = await s.mfa.reset(account, CLI_WHO);
        ctx.io.out(`reset ${account.username}: ${removed} factor(s) and recovery code(s) removed\n`);
      });
    },
  },
  {
    name: 'mfa rotate-key',
    args: 'NEWKEYFILE',
    summary: 're-encrypt every TOTP secret with the key in NEWKEYFILE (created with a fresh key, mode 0600, when missing)',
    details: 'Then point mfa.secretKeyFile (or PORTCULLIS_MFA_KEY) at the new key and restart; with several instances, list the new key in mfa.extraKeyFiles everywhere first (README: key rotation).',
    async run({ positionals: [file] }, ctx) {
      const absolute = path.resolve(file);
      await ctx.withServices(async (s) => {
        const count = await rotateKey(s, absolute);
        ctx.io.out(`re-encrypted ${count} secret(s) with the key in ${absolute}\n`);
        ctx.io.out(`now set mfa.secretKeyFile: ${absolute} (or PORTCULLIS_MFA_KEY to its contents) and restart every instance\n`);
      });
    },
  },
];
