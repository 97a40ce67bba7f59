import type { Request } from 'express';
import type { RequestContext } from '../../authn/login-service';
import type { Services } from '../../services';
import type { ApiTokenService } from '../api-tokens';

/** What every handler module gets: the core services plus the API's own token service. */
export interface AdminDeps {
  services: Services;
  tokens: ApiTokenService;
}

export function requestContext(req: Request, channel: string): RequestContext {
  return { clientIp: req.ip ?? null, userAgent: req.get('user-agent')?.slice(0, 512) ?? null, channel };
}

/** Paging as echoed in list responses. */
export function page(query: { offset?: number; limit?: number }): { offset: number; limit: number } {
  return { offset: query.offset ?? 0, limit: query.limit ?? 50 };
}
