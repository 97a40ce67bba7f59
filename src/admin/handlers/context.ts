import type { Services } from '../../services';
import type { ApiTokenService } from '../api-tokens';

/** What every handler module gets: the core services plus the API's own token service. */
export interface AdminDeps {
  services: Services;
  tokens: ApiTokenService;
}

export { requestContext } from '../../http/request-context';

/** Paging as echoed in list responses. */
export function page(query: { offset?: number; limit?: number }): { offset: number; limit: number } {
  return { offset: query.offset ?? 0, limit: query.limit ?? 50 };
}
