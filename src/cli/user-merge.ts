import type { Services } from '../services';
import { ConflictError, InputError } from '../shared/errors';
import { AccountMergeStore } from '../storage/account-merge-store';

export interface MergeReport {
  from: string;
  into: string;
  sessionsEnded: number;
  tokensMoved: number;
  tokensRevoked: number;
}

/**
 * Folds account FROM into account INTO, e.g. a duplicate `frank.garcia@REALM`
 * (a Windows UPN signed in before name forms were resolved) into the
 * canonical `fgarcia@REALM`. INTO keeps its own role, state and attributes;
 * FROM's past audit events keep FROM's name, and the merge is audited under
 * both names. The last enabled administrator cannot be merged away.
 */
export async function mergeAccounts(services: Services, fromName: string, intoName: string, actor: { name: string }): Promise<MergeReport> {
  const from = await services.accountService.requireByUsername(fromName);
  const into = await services.accountService.requireByUsername(intoName);
  if (from.id === into.id) throw new InputError(`"${fromName}" and "${intoName}" are the same account.`);
  const moves = await services.accounts.transaction(async (tx, trx) => {
    if (from.role === 'admin' && from.enabled) {
      await tx.lockAdministratorRoster();
      if ((await tx.countAdministrators(true)) <= 1) throw new ConflictError('last_administrator', `"${from.username}" is the last enabled administrator and cannot be merged away.`);
    }
    return new AccountMergeStore(trx).moveAndDelete(from.id, { id: into.id, username: into.username });
  });
  // Services that hold one of the ended sessions are told (single logout), by whichever instance delivers next.
  for (const key of moves.endedSessionKeys) await services.cas.singleLogout.queue(key);
  await services.lockouts.reset(from.usernameKey);
  const now = services.clock.now();
  const counts = { sessionsEnded: moves.endedSessionKeys.length, tokensMoved: moves.tokensMoved, tokensRevoked: moves.tokensRevoked };
  const roles = from.role === into.role ? {} : { fromRole: from.role, intoRole: into.role };
  await services.audit.append({ event: 'account_merged', outcome: 'success', username: from.username, actor: actor.name, details: { into: into.username, fromSource: from.source, ...roles, ...counts } }, now);
  await services.audit.append({ event: 'account_merged', outcome: 'success', username: into.username, actor: actor.name, details: { from: from.username, fromSource: from.source, ...roles, ...counts } }, now);
  return { from: from.username, into: into.username, ...counts };
}
