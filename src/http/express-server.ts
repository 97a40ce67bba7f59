import http from 'node:http';
import type { Express } from 'express';

export interface ExpressServerClasses {
  IncomingMessage: typeof http.IncomingMessage;
  ServerResponse: typeof http.ServerResponse;
}

/**
 * Request and response classes for `http(s).createServer` whose instances are
 * born with `app`'s express prototypes. Express otherwise re-prototypes every
 * request and response (`Object.setPrototypeOf` in `app.handle`), which
 * deoptimises Node's HTTP code: on a bare route that was about 65 µs of server
 * CPU per request instead of about 25 (bench/sso.ts prints both baselines).
 * Express's own call then finds the prototype already in place and changes
 * nothing; behaviour is the same. Call once per app, before its server starts.
 */
export function expressServerClasses(app: Express): ExpressServerClasses {
  class ExpressRequest extends http.IncomingMessage {}
  class ExpressResponse extends http.ServerResponse {}
  Object.setPrototypeOf(ExpressRequest.prototype, app.request);
  Object.setPrototypeOf(ExpressResponse.prototype, app.response);
  app.request = ExpressRequest.prototype as Express['request'];
  app.response = ExpressResponse.prototype as unknown as Express['response'];
  return { IncomingMessage: ExpressRequest, ServerResponse: ExpressResponse as typeof http.ServerResponse };
}
