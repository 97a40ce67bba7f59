import type { StoredTicket } from '../tickets/registry';
import type { SsoSession } from '../tickets/sessions';
import type { ServiceCheck, ServicePort } from './login/service-port';
import { checkServiceUrl } from './service-pattern';
import type { ServiceRegistry } from './service-registry';
import type { SingleLogout } from './single-logout';
import type { CasTickets } from './tickets';

/**
 * What /cas/login and /cas/logout see of the protocol layer: only registered
 * services get tickets or redirects (no open redirect), tickets remember
 * whether they came from a fresh login (for `renew`), and ended sessions
 * trigger single logout.
 */
export class CasServicePort implements ServicePort {
  constructor(
    private readonly registry: ServiceRegistry,
    private readonly tickets: CasTickets,
    private readonly singleLogout: SingleLogout,
  ) {}

  async checkService(service: string): Promise<ServiceCheck> {
    const url = checkServiceUrl(service);
    if (!url.ok) return { allowed: false, code: 'bad_url', reason: `The application address ${url.reason}, so you cannot be sent there.` };
    const registered = await this.registry.match(service);
    if (!registered) return { allowed: false, code: 'not_registered', reason: 'This application is not registered with the login service, so you cannot be signed in to it or sent back to it.' };
    return { allowed: true, service, name: registered.name, mfaRequired: registered.mfa === 'required' };
  }

  async issueServiceTicket(session: SsoSession, service: string, fromNewLogin: boolean): Promise<string> {
    const registered = await this.registry.match(service);
    if (!registered) throw new Error('issueServiceTicket called for a service that is not registered');
    return this.tickets.issueServiceTicket(session, service, registered.id, fromNewLogin);
  }

  sessionEnded(session: StoredTicket): void {
    this.singleLogout.sessionEnded(session.key);
  }
}
