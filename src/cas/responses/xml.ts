import { CAS_NAMESPACE } from '../constants';
import { escapeXml, escapeXmlAttribute, isXmlName } from '../xml';
import type { ReleasedAttributes, ServiceResponse } from './model';

const e = escapeXml;

function attributesXml(a: ReleasedAttributes): string[] {
  const lines = [
    '    <cas:attributes>',
    `      <cas:authenticationDate>${new Date(a.authenticationDate).toISOString()}</cas:authenticationDate>`,
    `      <cas:longTermAuthenticationRequestTokenUsed>${a.longTermAuthenticationRequestTokenUsed}</cas:longTermAuthenticationRequestTokenUsed>`,
    `      <cas:isFromNewLogin>${a.isFromNewLogin}</cas:isFromNewLogin>`,
  ];
  for (const [name, values] of Object.entries(a.values)) {
    // Names were checked when the service was registered; checked again so a bad name can never break the document.
    if (!isXmlName(name)) continue;
    for (const value of values) lines.push(`      <cas:${name}>${e(value)}</cas:${name}>`);
  }
  lines.push('    </cas:attributes>');
  return lines;
}

/** CAS 2.0/3.0 XML (Appendix A schema: element order user, attributes, proxyGrantingTicket, proxies). */
export function renderXml(response: ServiceResponse): string {
  const body: string[] = [];
  switch (response.kind) {
    case 'authenticationSuccess': {
      const s = response.success;
      body.push('  <cas:authenticationSuccess>', `    <cas:user>${e(s.user)}</cas:user>`);
      if (s.attributes) body.push(...attributesXml(s.attributes));
      if (s.proxyGrantingTicketIou) body.push(`    <cas:proxyGrantingTicket>${e(s.proxyGrantingTicketIou)}</cas:proxyGrantingTicket>`);
      if (s.proxies && s.proxies.length > 0) {
        body.push('    <cas:proxies>', ...s.proxies.map((p) => `      <cas:proxy>${e(p)}</cas:proxy>`), '    </cas:proxies>');
      }
      body.push('  </cas:authenticationSuccess>');
      break;
    }
    case 'authenticationFailure':
    case 'proxyFailure':
      body.push(`  <cas:${response.kind} code="${escapeXmlAttribute(response.code)}">${e(response.description)}</cas:${response.kind}>`);
      break;
    case 'proxySuccess':
      body.push('  <cas:proxySuccess>', `    <cas:proxyTicket>${e(response.proxyTicket)}</cas:proxyTicket>`, '  </cas:proxySuccess>');
      break;
  }
  return [`<cas:serviceResponse xmlns:cas="${CAS_NAMESPACE}">`, ...body, '</cas:serviceResponse>', ''].join('\n');
}
