import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { z } from 'zod';
import { decodeUtf8Strictly, queryParams } from '../http/params';
import { HttpError, NotFoundError } from '../shared/errors';
import { apiError } from './error-codes';
import { type Access, type ApiGuard, type Caller, wwwAuthenticate } from './guard';
import { TEXT_RULE_FIELDS } from './schemas';

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

export interface ApiResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HandlerContext<A extends Access, B, Q, P> {
  req: Request;
  body: B;
  query: Q;
  params: P;
  caller: A extends 'public' ? null : Caller;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Response header name → description. */
  headers?: Record<string, string>;
}

type Output<S> = S extends z.ZodType ? z.output<S> : undefined;

/**
 * One endpoint: its schemas, who may call it, what it answers, and the
 * handler, in one place (better-auth's createAuthEndpoint). The router and
 * the OpenAPI document are both generated from these objects.
 */
export interface RouteSpec<A extends Access, B extends z.ZodType | undefined, Q extends z.ZodType | undefined, P extends z.ZodType | undefined> {
  method: HttpMethod;
  /** OpenAPI-style path relative to /api/v1, e.g. "/accounts/{id}". */
  path: string;
  access: A;
  tag: string;
  summary: string;
  description?: string;
  body?: B;
  query?: Q;
  params?: P;
  /** Request headers the route reads (If-Match). */
  requestHeaders?: { name: string; required: boolean; description: string }[];
  responses: Record<number, ResponseSpec>;
  /** Error statuses beyond those implied by access, body, query and params (409, 412...). */
  errors?: number[];
  handle(ctx: HandlerContext<A, Output<B>, Output<Q>, Output<P>>): Promise<ApiResult>;
}

/** A route with its types erased, as the router and the OpenAPI generator see it. */
export type ApiRoute = RouteSpec<Access, z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;

export function defineRoute<
  A extends Access,
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  P extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<A, B, Q, P>): ApiRoute {
  // Sound: mountRoute parses body, query and params with these very schemas before calling handle.
  return spec as unknown as ApiRoute;
}

/** "/accounts/{id}" → "/accounts/:id". */
export function expressPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

/** Zod issues → the `errors` list of a validation problem: each field and the rule it broke. */
export function validationFields(error: z.ZodError): { field: string; rule: string; message: string }[] {
  const fields: { field: string; rule: string; message: string }[] = [];
  for (const issue of error.issues) {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) fields.push({ field: at ? `${at}.${key}` : key, rule: 'unknown_field', message: 'is not a field of this request' });
    } else {
      fields.push({ field: at || '(body)', rule: issue.code, message: issue.message });
    }
  }
  return fields;
}

type FieldProblem = { field: string; rule: string; message: string };

// eslint-disable-next-line no-control-regex -- control characters are what the rule refuses
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- all but TAB, LF and CR
const CONTROL_BUT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The text rule, for every string in a body or query string, before any
 * schema: no C0 control character or DEL (PostgreSQL cannot store NUL, and
 * escapes corrupt terminals and logs) and no lone surrogate (it would be
 * stored as U+FFFD). Iterative, so deep nesting cannot overflow the stack.
 */
export function textRuleProblems(input: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const pending: { value: unknown; path: string[]; key: string }[] = [{ value: input, path: [], key: '' }];
  while (pending.length > 0) {
    const { value, path, key } = pending.pop() as (typeof pending)[number];
    if (typeof value === 'string') {
      if (TEXT_RULE_FIELDS.secret.has(key)) continue;
      const field = path.join('.') || '(body)';
      const control = TEXT_RULE_FIELDS.multiline.has(key) ? CONTROL_BUT_LINE_BREAKS : CONTROL;
      if (control.test(value)) problems.push({ field, rule: 'control_characters', message: 'must not contain control characters' });
      else if (LONE_SURROGATE.test(value)) problems.push({ field, rule: 'unicode', message: 'is not well-formed Unicode (a lone surrogate)' });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => pending.push({ value: item, path: [...path, String(i)], key }));
    } else if (value !== null && typeof value === 'object') {
      for (const [name, item] of Object.entries(value)) pending.push({ value: item, path: [...path, name], key: name });
    }
  }
  return problems.reverse();
}

function checkTextRule(input: unknown, what: string): void {
  const problems = textRuleProblems(input);
  if (problems.length > 0) throw apiError('VALIDATION_FAILED', `The ${what} is not valid.`, problems);
}

function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw apiError('VALIDATION_FAILED', `The ${what} is not valid.`, validationFields(result.error));
  return result.data;
}

/** Registers one route: guard → content type → JSON body → validation → handler → response. */
export function mountRoute(router: Router, route: ApiRoute, guard: ApiGuard): void {
  const authorize: RequestHandler = async (req, res, next) => {
    try {
      res.locals.caller = await guard.check(req, route.access);
      next();
    } catch (error) {
      if (error instanceof HttpError && error.status === 401) res.set('WWW-Authenticate', wwwAuthenticate(error));
      next(error);
    }
  };
  const handlers: RequestHandler[] = [authorize];
  if (route.body) {
    handlers.push((req: Request, _res: Response, next: NextFunction) => {
      next(req.is('application/json') ? undefined : apiError('UNSUPPORTED_MEDIA_TYPE'));
    });
    // Only after authorization: an anonymous caller learns nothing about body handling.
    handlers.push(
      express.json({
        limit: '64kb',
        strict: true,
        type: 'application/json',
        // JSON is UTF-8 (RFC 8259 §8.1); body-parser would turn invalid bytes into U+FFFD silently.
        verify: (_req, _res, bytes, encoding) => {
          if (/^utf-?8$/i.test(encoding)) decodeUtf8Strictly(bytes, 'The request body');
        },
      }),
    );
  }
  handlers.push(async (req, res) => {
    let params: unknown = {};
    if (route.params) {
      const parsed = route.params.safeParse(req.params);
      if (!parsed.success) throw new NotFoundError(`Nothing at ${req.baseUrl}${req.path}.`);
      params = parsed.data;
    }
    const raw = queryParams(req);
    const rawQuery = Object.fromEntries(raw.names().map((name) => [name, raw.get(name)]));
    if (!route.query && raw.names().length > 0) {
      throw apiError('VALIDATION_FAILED', 'This call takes no query parameters.', raw.names().map((field) => ({ field, rule: 'unknown_field', message: 'is not a parameter of this call' })));
    }
    checkTextRule(rawQuery, 'query string');
    const query = route.query ? parseOrThrow(route.query, rawQuery, 'query string') : undefined;
    if (route.body) checkTextRule(req.body, 'request body');
    const body = route.body ? parseOrThrow(route.body, req.body, 'request body') : undefined;
    const result = await route.handle({ req, body, query, params, caller: res.locals.caller as Caller });
    if (result.headers) res.set(result.headers);
    res.status(result.status);
    if (result.body === undefined) res.end();
    else res.json(result.body);
  });
  router[route.method](expressPath(route.path), ...handlers);
}
