import { UnavailableError } from '../../shared/errors';
import { DirectoryTimeout } from './deadline';

export interface BreakerSettings {
  /** Consecutive timed-out calls that open the breaker; 0 = never open. */
  failures: number;
  /** How long it stays open before one call is let through as a probe. */
  coolDownMs: number;
}

type State = { kind: 'closed'; failures: number } | { kind: 'open'; since: number } | { kind: 'half_open' };

/**
 * A circuit breaker for one directory. A directory that times out ties up a
 * login for the whole deadline; after `failures` such calls in a row the
 * breaker opens and calls fail at once (directory unavailable) instead. After
 * the cool-down one call goes through as a probe: an answer closes the
 * breaker, another timeout opens it again. Only timeouts count: a refused
 * connection already fails fast and is retried by the next login, so a
 * restarted directory is used at once.
 */
export class CircuitBreaker {
  private state: State = { kind: 'closed', failures: 0 };

  constructor(
    private readonly label: string,
    private readonly settings: BreakerSettings,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether the directory is currently considered down (open, or probing). */
  get open(): boolean {
    return this.state.kind !== 'closed';
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const probing = this.admit();
    try {
      const value = await work();
      this.state = { kind: 'closed', failures: 0 };
      return value;
    } catch (error) {
      this.record(error, error instanceof DirectoryTimeout, probing);
      throw error;
    }
  }

  /** Lets a call through or throws; returns whether this call is the half-open probe. */
  private admit(): boolean {
    const state = this.state;
    if (state.kind === 'closed') return false;
    if (state.kind === 'open') {
      const waited = this.now() - state.since;
      if (waited >= this.settings.coolDownMs) {
        this.state = { kind: 'half_open' };
        return true;
      }
      throw new UnavailableError('directory', `directory "${this.label}" is down (it timed out ${this.settings.failures} times in a row); next try in ${Math.ceil((this.settings.coolDownMs - waited) / 1000)} s`);
    }
    throw new UnavailableError('directory', `directory "${this.label}" is down; a probe is checking whether it is back`);
  }

  private record(error: unknown, timedOut: boolean, probing: boolean): void {
    if (!(error instanceof UnavailableError)) {
      // The directory answered (the caller failed otherwise): it is up.
      this.state = { kind: 'closed', failures: 0 };
      return;
    }
    if (probing) {
      this.state = timedOut ? { kind: 'open', since: this.now() } : { kind: 'closed', failures: 0 };
      return;
    }
    // Other outages (refused connection, busy pool) neither count nor clear the count.
    if (this.state.kind !== 'closed' || !timedOut) return;
    const failures = this.state.failures + 1;
    this.state = this.settings.failures > 0 && failures >= this.settings.failures ? { kind: 'open', since: this.now() } : { kind: 'closed', failures };
  }
}
