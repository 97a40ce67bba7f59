import { isoTime } from '../account-views';
import { type ApiRoute, defineRoute } from '../route-kit';
import { auditPageSchema, auditQuery } from '../schemas';
import { type AuditRouteDeps, page } from './context';

export function auditRoutes(deps: AuditRouteDeps): ApiRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/audit',
      access: 'admin',
      tag: 'audit',
      summary: 'The audit trail, newest first (filter by username, event type, time range)',
      description:
        'Events include login (success/failure, backend, client IP, user agent, channel), account_locked, account_unlocked, password_changed, ' +
        'account_created/updated/deleted, account_disabled_inactive, token_issued, token_revoked, api_forbidden and service changes, each with the acting account. ' +
        'The trail is append-only and never holds password material.',
      query: auditQuery,
      responses: { 200: { description: 'A page of audit events.', schema: auditPageSchema } },
      async handle({ query }) {
        const { events, total } = await deps.audit.query({
          username: query.username,
          event: query.event,
          from: query.from === undefined ? undefined : Date.parse(query.from),
          to: query.to === undefined ? undefined : Date.parse(query.to),
          ...page(query),
        });
        return { status: 200, body: { items: events.map((e) => ({ ...e, at: isoTime(e.at) })), total, ...page(query) } };
      },
    }),
  ];
}
