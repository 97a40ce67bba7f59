import { UnavailableError } from '../../shared/errors';

/**
 * One login's time budget against a directory: an absolute end time shared
 * by every step (pool wait, connect, StartTLS, search, bind, group search),
 * so no retry or queue can make the login as a whole last longer.
 */
export class Deadline {
  private readonly endsAt: number;

  constructor(
    /** The whole budget, for messages. */
    readonly budgetMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.endsAt = now() + budgetMs;
  }

  remainingMs(): number {
    return Math.max(0, this.endsAt - this.now());
  }

  /** `ms`, cut down to what is left of the budget. */
  cap(ms: number): number {
    return Math.min(ms, this.remainingMs());
  }

  exceeded(label: string, step: string): DirectoryTimeout {
    return new DirectoryTimeout('directory', `directory "${label}" did not finish the login within its deadline of ${this.budgetMs} ms (${step})`);
  }
}

/** The directory did not answer in time (connect, TLS, operation or the login's deadline). */
export class DirectoryTimeout extends UnavailableError {
  constructor(dependency: string, message: string, options?: { cause?: unknown }) {
    super(dependency, message, options);
    this.name = 'DirectoryTimeout';
  }
}
