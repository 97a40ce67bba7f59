import { CAS_ERROR, type CasErrorCode } from './constants';

/**
 * A protocol-level failure with its CAS error code. Handlers throw it; the
 * CAS error renderer turns it into the endpoint's failure format (text, XML,
 * JSON, SAML). `status` is the HTTP status: 200 for ordinary protocol
 * failures, as CAS clients expect to parse the body whatever happened.
 */
export class CasProtocolError extends Error {
  constructor(
    readonly code: CasErrorCode,
    readonly description: string,
    readonly status = 200,
  ) {
    super(`${code}: ${description}`);
    this.name = 'CasProtocolError';
  }
}

export const invalidRequest = (description: string) => new CasProtocolError(CAS_ERROR.INVALID_REQUEST, description);
export const invalidTicket = (description: string) => new CasProtocolError(CAS_ERROR.INVALID_TICKET, description);
