import type { ServiceResponse } from './model';

const oneOrMany = (values: string[]): string | string[] => (values.length === 1 ? values[0] : values);

/**
 * CAS 3.0 JSON (spec §2.5.2, §2.6.2, §2.7.2). As in the spec's examples, a
 * /proxy failure is reported as `authenticationFailure`. Proxies are listed
 * most recent first, like the XML (the spec's JSON example lists them the
 * other way round, contradicting its own rule for `<cas:proxies>`).
 */
export function renderJson(response: ServiceResponse): string {
  switch (response.kind) {
    case 'authenticationSuccess': {
      const s = response.success;
      const success: Record<string, unknown> = { user: s.user };
      if (s.proxyGrantingTicketIou) success.proxyGrantingTicket = s.proxyGrantingTicketIou;
      if (s.proxies && s.proxies.length > 0) success.proxies = s.proxies;
      if (s.attributes) {
        const attributes: Record<string, unknown> = {
          authenticationDate: new Date(s.attributes.authenticationDate).toISOString(),
          longTermAuthenticationRequestTokenUsed: s.attributes.longTermAuthenticationRequestTokenUsed,
          isFromNewLogin: s.attributes.isFromNewLogin,
        };
        for (const [name, values] of Object.entries(s.attributes.values)) attributes[name] = oneOrMany(values);
        success.attributes = attributes;
      }
      return JSON.stringify({ serviceResponse: { authenticationSuccess: success } });
    }
    case 'authenticationFailure':
    case 'proxyFailure':
      return JSON.stringify({ serviceResponse: { authenticationFailure: { code: response.code, description: response.description } } });
    case 'proxySuccess':
      return JSON.stringify({ serviceResponse: { proxySuccess: { proxyTicket: response.proxyTicket } } });
  }
}
