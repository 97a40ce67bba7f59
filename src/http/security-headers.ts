import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/** The headers helmet sets for these options, in order; throws if helmet would do more than set and remove headers. */
function helmetHeaders(options: HelmetOptions): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.push([name, String(value)]);
    },
    removeHeader() {
      // X-Powered-By: express's is disabled in app.ts.
    },
  };
  let passed = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error as Error;
    passed = true;
  });
  if (!passed) throw new Error('helmet did not finish synchronously');
  return headers;
}

/**
 * helmet's security headers, computed once at startup: none of our directives
 * depends on the request, and helmet's twelve middlewares per request were
 * about 5% of a single sign-on round trip's CPU in profiles (bench/sso.ts).
 */
export function securityHeaders(options: HelmetOptions): RequestHandler {
  const headers = helmetHeaders(options);
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}
