import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Logger } from '../shared/logger';
import { ConflictError, HttpError, InputError, NotFoundError, PolicyError } from '../shared/errors';
import { asUnavailable } from '../storage/storage-faults';

/** RFC 9457 problem details; `type` is stable per kind of problem. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field?: string; rule: string; message: string }[];
  /** RFC 9457 extension members (e.g. lockedUntil). */
  [extension: string]: unknown;
}

export const PROBLEM_BASE = 'https://portcullis.dev/problems/';

const HTTP_TITLES: Record<number, string> = {
  400: 'Invalid request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  412: 'Precondition failed',
  415: 'Unsupported media type',
  422: 'Validation failed',
  423: 'Locked',
  428: 'Precondition required',
  503: 'Service unavailable',
};

/** Maps any thrown value to a status and a message safe to show; internals stay in the log. */
/** A broken password rule as the API shows it: rule, message and the estimator's feedback (the numbers pages use stay out). */
function problemViolation(violation: PolicyError['violations'][number] & { feedback?: unknown }): { rule: string; message: string } {
  const shown: { rule: string; message: string; feedback?: unknown } = { rule: violation.rule, message: violation.message };
  if (violation.feedback !== undefined) shown.feedback = violation.feedback;
  return shown;
}

export function classify(error: unknown): Problem {
  if (error instanceof HttpError) {
    return {
      ...error.extensions,
      type: `${PROBLEM_BASE}${error.code.replace(/_/g, '-')}`,
      title: HTTP_TITLES[error.status] ?? 'Request refused',
      status: error.status,
      detail: error.message,
      ...(error.fields.length ? { errors: error.fields } : {}),
    };
  }
  if (error instanceof InputError) {
    return { type: `${PROBLEM_BASE}invalid-request`, title: 'Invalid request', status: error.status, detail: error.message, ...(error.fields.length ? { errors: error.fields } : {}) };
  }
  if (error instanceof PolicyError) {
    return { type: `${PROBLEM_BASE}${error.code.replace(/_/g, '-')}`, title: 'Refused by policy', status: 422, detail: error.message, ...(error.violations.length ? { rules: error.violations.map((v) => v.rule), errors: error.violations.map(problemViolation) } : {}) };
  }
  if (error instanceof ConflictError) return { type: `${PROBLEM_BASE}${error.code.replace(/_/g, '-')}`, title: 'Conflict', status: 409, detail: error.message };
  if (error instanceof NotFoundError) return { type: `${PROBLEM_BASE}not-found`, title: 'Not found', status: 404, detail: error.message };
  const unavailable = asUnavailable(error);
  if (unavailable) {
    const { reason } = unavailable;
    return { type: `${PROBLEM_BASE}unavailable`, title: 'Service unavailable', status: 503, detail: `${reason[0].toUpperCase()}${reason.slice(1)}; try again later.` };
  }
  const e = error as { type?: string; status?: number; statusCode?: number };
  // body-parser errors (too large, bad JSON, unsupported charset) carry a 4xx status.
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const detail =
      e.type === 'entity.too.large' ? 'The request body is too large.' : e.type === 'entity.parse.failed' ? 'The request body is not valid JSON.' : 'The request could not be read.';
    return { type: `${PROBLEM_BASE}invalid-request`, title: 'Invalid request', status, detail };
  }
  return { type: `${PROBLEM_BASE}internal`, title: 'Internal error', status: 500, detail: 'An unexpected error occurred; it has been logged.' };
}

/** Renderers for areas with their own error format (CAS protocol XML, problem+json). */
export type ErrorRenderer = (req: Request, res: Response, problem: Problem, error: unknown) => boolean;

/** The one place errors become responses. Never sends a stack trace. */
export function errorHandler(logger: Logger, renderers: ErrorRenderer[]): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const problem = classify(error);
    // Errors that declare a client-facing status themselves (a CAS protocol failure answers 200) are not server faults.
    const declared = (error as { status?: unknown } | null)?.status;
    const serverFault = problem.status >= 500 && !(typeof declared === 'number' && declared < 500);
    const unavailable = asUnavailable(error);
    // An expected fault (disk full, directory down) is logged with its reason, not a stack per request.
    if (unavailable) logger.error({ event: 'unavailable', dependency: unavailable.dependency, reason: unavailable.reason, err: unavailable.message, path: req.path, requestId: res.locals.requestId }, 'request refused: dependency unavailable');
    else if (serverFault) logger.error({ err: error, path: req.path, requestId: res.locals.requestId }, 'request failed');
    else logger.debug({ path: req.path, status: problem.status, detail: problem.detail }, 'client error');
    for (const render of renderers) if (render(req, res, problem, error)) return;
    if (req.path.startsWith('/api/')) {
      res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
      return;
    }
    // Pages get their error page from a renderer (web/ui.ts, in the page's language); this is the last resort.
    res.status(problem.status).type('text/plain').send(`${problem.title}: ${problem.detail}\n`);
  };
}
