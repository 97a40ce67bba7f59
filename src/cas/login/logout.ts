import type { Request, Response } from 'express';
import { queryParams } from '../../http/params';
import type { Clock } from '../../shared/clock';
import type { AuditLog } from '../../storage/audit-log';
import type { SessionService } from '../../tickets/sessions';
import type { ServicePort } from './service-port';
import { clearTgc, readTgc } from './cookies';
import type { LoginPages } from './pages';
import { readServiceRequest } from './request';

export interface LogoutDeps {
  clock: Clock;
  sessions: SessionService;
  servicePort: ServicePort;
  audit: AuditLog;
  pages: LoginPages;
}

/**
 * `/cas/logout`: ends the browser's session (its service tickets' owners
 * hear of it by single logout), clears the cookie, then goes back to
 * `service` when that is a registered service, or says "signed out".
 */
export function logoutRoute(deps: LogoutDeps): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const request = readServiceRequest(queryParams(req));
    const session = await deps.sessions.find(readTgc(req));
    if (session) {
      await deps.sessions.destroy(session.tgtId);
      deps.servicePort.sessionEnded(session.ticket, session.tgtId);
      await deps.audit.append({ event: 'logout', outcome: 'success', username: session.ticket.principal, clientIp: req.ip ?? null, userAgent: req.get('user-agent') ?? null }, deps.clock.now());
    }
    clearTgc(res);
    if (request.service !== undefined) {
      const check = await deps.servicePort.checkService(request.service);
      if (check.allowed) return res.redirect(303, check.service);
    }
    deps.pages.loggedOut(req, res);
  };
}
