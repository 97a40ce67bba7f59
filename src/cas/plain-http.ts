/**
 * Service URLs over plain http:// send service tickets (and single-logout
 * messages) across the network in clear. The registry accepts them (tests and
 * closed networks use them); the operator's ways in (CLI, admin API) refuse them
 * unless told `--allow-http` / `allowHttp: true`, and then warn.
 */
export interface PlainHttpFinding {
  field: 'serviceUrl' | 'logoutUrl';
  message: string;
}

export function plainHttpFindings(input: { serviceUrl?: string | null; logoutUrl?: string | null }): PlainHttpFinding[] {
  const findings: PlainHttpFinding[] = [];
  if (input.serviceUrl && /^http:/i.test(input.serviceUrl)) {
    findings.push({ field: 'serviceUrl', message: `${input.serviceUrl} is plain http://: service tickets would cross the network in clear` });
  }
  if (input.logoutUrl && /^http:/i.test(input.logoutUrl)) {
    findings.push({ field: 'logoutUrl', message: `${input.logoutUrl} is plain http://: single-logout messages (with ticket ids) would cross the network in clear` });
  }
  return findings;
}
