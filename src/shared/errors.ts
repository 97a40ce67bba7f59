/**
 * Errors that cross layer boundaries. Each carries what the HTTP edge needs to
 * render it; nothing here knows about express.
 */

/** A client mistake (bad input). `expose` messages are safe to show to the caller. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly status: number = 400,
    readonly fields: { field: string; rule: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** A policy refused an operation (administrator limit, password rules, last admin...). */
export class PolicyError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly violations: { rule: string; message: string; limit?: number; unit?: string }[] = [],
  ) {
    super(message);
    this.name = 'PolicyError';
  }
}

/**
 * A dependency (database, directory, KDC) could not answer; callers must fail closed.
 * `message` is for the log (it may name internal hosts); `reason` is safe to show anyone.
 */
export class UnavailableError extends Error {
  readonly reason: string;

  constructor(
    readonly dependency: string,
    message: string,
    options?: { cause?: unknown; reason?: string },
  ) {
    super(message, options);
    this.name = 'UnavailableError';
    this.reason = options?.reason ?? `the ${dependency} cannot be reached`;
  }
}

/** Configuration that cannot be used; the message names the file and key. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * A refusal at the HTTP edge with its own status and stable code (401, 403,
 * 412, 415, 422 validation...). `extensions` become extra problem members.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: { field?: string; rule: string; message: string }[] = [],
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
