import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../shared/logger';

/** Where a request's timing is reported (the metrics registry). */
export interface RequestObserver {
  httpRequest(method: string, route: string, status: number, seconds: number): void;
}

// CAS ticket ids (ST-, PT-, TGT-, PGT-, PGTIOU-) and anything token-shaped.
const SECRET_SEGMENT = /^(?:(?:TGT|ST|PT|PGT|PGTIOU)-.+|[A-Za-z0-9_-]{32,}|[A-Za-z0-9+/=._-]{48,})$/;

/**
 * The path as it may appear in a log: no query string (tickets, services and
 * proxy-granting tickets travel there), and any path segment that looks like a
 * ticket or token replaced (the REST API puts the TGT id in the path).
 */
export function loggablePath(originalUrl: string): string {
  const path = originalUrl.split('?')[0].split('#')[0];
  return path
    .split('/')
    .map((segment) => {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        // keep the raw segment
      }
      return SECRET_SEGMENT.test(decoded) ? ':redacted' : segment;
    })
    .join('/')
    .slice(0, 256);
}

// Load balancer probes and scrapes arrive every few seconds: logged at debug only.
const PROBE_PATHS = /^\/(?:health\/(?:live|ready)|metrics)$/;

/** The route pattern when express matched one ("/cas/v1/tickets/:tgt"), else the redacted path. */
function routeOf(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof route === 'string') return `${req.baseUrl}${route}`;
  return 'unmatched';
}

/**
 * One structured JSON line per request, written when the response is done
 * (or the client went away): request id, method, path without query,
 * status, duration, client address. Never headers, bodies or query strings.
 */
export function requestLogger(logger: Logger, observer?: RequestObserver): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    let logged = false;
    const done = (aborted: boolean) => {
      if (logged) return;
      logged = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = aborted && !res.headersSent ? 499 : res.statusCode;
      const route = routeOf(req);
      observer?.httpRequest(req.method, route, status, seconds);
      // At the default level every request is logged; below it, the line is not even built.
      if (status < 500 && !logger.isLevelEnabled('info')) return;
      const line = {
        event: 'request',
        requestId: res.locals.requestId as string | undefined,
        method: req.method,
        path: loggablePath(req.originalUrl),
        route,
        status,
        durationMs: Math.round(seconds * 10_000) / 10,
        clientIp: req.ip,
        ...(aborted ? { aborted: true } : {}),
      };
      if (status >= 500) logger.error(line, 'request');
      else if (PROBE_PATHS.test(line.path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    };
    res.once('finish', () => done(false));
    res.once('close', () => done(!res.writableFinished));
    next();
  };
}
