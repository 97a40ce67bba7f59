import type { Account } from '../accounts/account';
import { UnavailableError } from '../shared/errors';
import { usernameKey } from '../shared/username';
import { INTERNAL_BACKEND } from './internal-backend';
import type { AuthenticationBackend, BackendOutcome, PasswordCredential } from './backend';

export interface Route {
  /** Backends to ask, in order. Empty means nobody may answer for this name. */
  backends: AuthenticationBackend[];
  /** Name the lockout counter and local account are keyed by. */
  canonicalUsername: string;
  /** Whether lockout applies to this name (false only when every candidate backend opts out). */
  lockout: boolean;
  /** Backend name → the account name it resolved the login name to; that backend is asked with this name, not the typed one. */
  resolvedNames?: ReadonlyMap<string, string>;
}

/** The one question the chain asks of the accounts: whose is this name? */
export interface AccountLookup {
  findByKey(usernameKey: string): Promise<Account | null>;
}

export interface ChainOutcome {
  outcome: BackendOutcome;
  backend: AuthenticationBackend | null;
}

/**
 * Decides which backend answers for a username, then asks it.
 * Rule: an existing local account's source wins (looked up under each
 * candidate backend's form of the name, e.g. "alice" and "alice@REALM");
 * otherwise a backend that claims the name exclusively (DOMAIN\user,
 * user@REALM for Windows) answers alone; otherwise the backends are tried in
 * configured order until one knows the user. A backend that is down makes the whole login fail closed
 * unless an earlier backend already answered.
 */
export class BackendChain {
  constructor(
    private readonly backends: AuthenticationBackend[],
    private readonly accounts: AccountLookup,
  ) {}

  list(): readonly AuthenticationBackend[] {
    return this.backends;
  }

  async route(username: string): Promise<Route> {
    // The default chain (internal only) needs no lookup: the internal backend reads the account itself
    // and refuses accounts of other sources, so routing would only read the same row twice.
    if (this.backends.length === 1 && this.backends[0].name === INTERNAL_BACKEND) {
      return { backends: [...this.backends], canonicalUsername: username, lockout: this.backends[0].lockout };
    }
    const exclusive = this.backends.find((b) => b.claims(username) === 'only');
    const candidates = exclusive ? [exclusive] : this.backends.filter((b) => b.claims(username) !== 'no');
    // Each candidate names the account its own way (alice vs alice@REALM; a UPN resolved to sAMAccountName@REALM by the
    // directory): an existing account under any of them wins, so every name form of one person is one account and one lockout counter.
    // (canonicalUsername may throw InputError, e.g. DOMAIN\user for a domain nobody serves: a clear, audited refusal.)
    const resolvedNames = new Map<string, string>();
    const named: { backend: AuthenticationBackend; name: string }[] = [];
    for (const backend of candidates) {
      const name = backend.resolveUsername ? await backend.resolveUsername(username) : backend.canonicalUsername(username);
      if (backend.resolveUsername) resolvedNames.set(backend.name, name);
      named.push({ backend, name });
    }
    for (const name of new Set(named.map((n) => n.name))) {
      const account = await this.accounts.findByKey(usernameKey(name));
      if (account) {
        const owner = this.backends.find((b) => b.name === account.source);
        return { backends: owner ? [owner] : [], canonicalUsername: name, lockout: owner?.lockout ?? true, resolvedNames };
      }
    }
    // No account yet: the internal backend cannot know the name, so the first other candidate's name is the one to count against.
    const counted = named.find((n) => n.backend.name !== INTERNAL_BACKEND) ?? named[0];
    return { backends: candidates, canonicalUsername: counted?.name ?? username, lockout: candidates.length === 0 || candidates.some((b) => b.lockout), resolvedNames };
  }

  async authenticate(route: Route, credential: PasswordCredential): Promise<ChainOutcome> {
    let unavailable: UnavailableError | null = null;
    for (const backend of route.backends) {
      let outcome: BackendOutcome;
      try {
        const resolved = route.resolvedNames?.get(backend.name);
        outcome = await backend.authenticate(resolved === undefined ? credential : { ...credential, username: resolved });
      } catch (error) {
        if (!(error instanceof UnavailableError)) throw error;
        unavailable ??= error;
        continue;
      }
      if (outcome.ok || outcome.reason !== 'unknown_user') return { outcome, backend };
    }
    // Nobody said yes, and someone could not be asked: that backend might have known the user.
    if (unavailable) throw unavailable;
    return { outcome: { ok: false, reason: 'unknown_user' }, backend: null };
  }
}
