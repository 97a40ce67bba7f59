import type { Request } from 'express';
import type { RequestContext } from '../authn/login-service';

/** Who is asking, for the login path and the audit trail: the one builder every way in uses. */
export function requestContext(req: Request, channel: string): RequestContext {
  // Bounded: a user agent is stored in the audit log, and a client chooses its length.
  return { clientIp: req.ip ?? null, userAgent: req.get('user-agent')?.slice(0, 512) ?? null, channel };
}
