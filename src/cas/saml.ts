import { randomBytes } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { MAX_TICKET_LENGTH } from './constants';
import { invalidRequest } from './errors';
import { PASSKEY_METHOD } from '../tickets/sessions';
import type { ReleasedAttributes } from './responses/model';
import { escapeXml as e, escapeXmlAttribute as attr, isXmlName } from './xml';

/**
 * CAS 3.0 §4.2 `/samlValidate`: a SAML 1.1 request in a SOAP envelope in,
 * a SAML 1.1 response out (the form the .NET CAS client's SAML 1.1 validator
 * and Apereo's clients parse).
 */

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  // No entity expansion at all: a ticket is [A-Za-z0-9-], nothing needs it, and it is how XML bombs work.
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

export interface SamlRequest {
  requestId: string;
  artifact: string;
}

type XmlNode = Record<string, unknown>;
const child = (node: unknown, name: string): unknown => (node !== null && typeof node === 'object' ? (node as XmlNode)[name] : undefined);

/** Reads the AssertionArtifact (the service ticket) and RequestID; refuses DTDs and malformed XML. */
export function parseSamlRequest(body: string): SamlRequest {
  if (body.trim().length === 0) throw invalidRequest('The request body must be a SAML 1.1 request (text/xml).');
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) throw invalidRequest('Document type declarations are not accepted.');
  if (XMLValidator.validate(body) !== true) throw invalidRequest('The request body is not well-formed XML.');
  const doc: unknown = parser.parse(body);
  const request = child(child(child(doc, 'Envelope'), 'Body'), 'Request');
  const artifact = child(request, 'AssertionArtifact');
  if (typeof artifact !== 'string' || artifact.length === 0) throw invalidRequest('samlp:AssertionArtifact (the service ticket) is required.');
  if (artifact.length > MAX_TICKET_LENGTH) throw invalidRequest('samlp:AssertionArtifact is too long.');
  const requestId = child(request, '@_RequestID');
  return { artifact, requestId: typeof requestId === 'string' && /^[A-Za-z0-9._:-]{1,256}$/.test(requestId) ? requestId : '' };
}

const samlId = () => `_${randomBytes(16).toString('hex')}`;
const iso = (ms: number) => new Date(ms).toISOString();

const NS =
  'xmlns="urn:oasis:names:tc:SAML:1.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
const ATTRIBUTE_NAMESPACE = 'http://www.ja-sig.org/products/cas/';
const ARTIFACT_METHOD = 'urn:oasis:names:tc:SAML:1.0:cm:artifact';
/** SAML 1.1 names no multi-factor method; Apereo CAS answers `unspecified` for any login that is not a plain password. */
const UNSPECIFIED_METHOD = 'urn:oasis:names:tc:SAML:1.0:am:unspecified';

/** SAML 1.1 §7.1 identifiers of a single method; several factors have none. */
const SINGLE_METHODS: Record<string, string> = {
  password: 'urn:oasis:names:tc:SAML:1.0:am:password',
  spnego: 'urn:ietf:rfc:1510',
  [PASSKEY_METHOD]: 'urn:oasis:names:tc:SAML:1.0:am:HardwareToken',
};

/** AuthenticationMethod: the method when there was one (password, Kerberos, a passkey as hardware token), else unspecified. */
function authenticationMethod(methods: string[]): string {
  return (methods.length === 1 ? SINGLE_METHODS[methods[0]] : undefined) ?? UNSPECIFIED_METHOD;
}

function envelope(response: string): string {
  return `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header/><SOAP-ENV:Body>${response}</SOAP-ENV:Body></SOAP-ENV:Envelope>\n`;
}

function responseOpen(now: number, requestId: string, recipient: string | null): string {
  const inResponseTo = requestId ? ` InResponseTo="${attr(requestId)}"` : '';
  const to = recipient ? ` Recipient="${attr(recipient)}"` : '';
  return `<Response ${NS} IssueInstant="${iso(now)}" MajorVersion="1" MinorVersion="1"${to} ResponseID="${samlId()}"${inResponseTo}>`;
}

export interface SamlSuccess {
  now: number;
  requestId: string;
  target: string;
  issuer: string;
  user: string;
  attributes: ReleasedAttributes;
  /** How long the assertion may be relied on (Conditions NotOnOrAfter). */
  validitySeconds: number;
}

function subject(user: string): string {
  return `<Subject><NameIdentifier>${e(user)}</NameIdentifier><SubjectConfirmation><ConfirmationMethod>${ARTIFACT_METHOD}</ConfirmationMethod></SubjectConfirmation></Subject>`;
}

function attribute(name: string, values: string[]): string {
  return `<Attribute AttributeName="${attr(name)}" AttributeNamespace="${ATTRIBUTE_NAMESPACE}">${values.map((v) => `<AttributeValue>${e(v)}</AttributeValue>`).join('')}</Attribute>`;
}

export function renderSamlSuccess(s: SamlSuccess): string {
  const a = s.attributes;
  const attributes = [
    attribute('authenticationDate', [iso(a.authenticationDate)]),
    attribute('isFromNewLogin', [String(a.isFromNewLogin)]),
    attribute('longTermAuthenticationRequestTokenUsed', [String(a.longTermAuthenticationRequestTokenUsed)]),
    ...Object.entries(a.values)
      .filter(([name, values]) => isXmlName(name) && values.length > 0)
      .map(([name, values]) => attribute(name, values)),
  ].join('');
  const assertion =
    `<Assertion xmlns="urn:oasis:names:tc:SAML:1.0:assertion" AssertionID="${samlId()}" IssueInstant="${iso(s.now)}" Issuer="${attr(s.issuer)}" MajorVersion="1" MinorVersion="1">` +
    `<Conditions NotBefore="${iso(s.now)}" NotOnOrAfter="${iso(s.now + s.validitySeconds * 1000)}"><AudienceRestrictionCondition><Audience>${e(s.target)}</Audience></AudienceRestrictionCondition></Conditions>` +
    `<AttributeStatement>${subject(s.user)}${attributes}</AttributeStatement>` +
    `<AuthenticationStatement AuthenticationInstant="${iso(a.authenticationDate)}" AuthenticationMethod="${authenticationMethod(a.methods)}">${subject(s.user)}</AuthenticationStatement>` +
    `</Assertion>`;
  return envelope(`${responseOpen(s.now, s.requestId, s.target)}<Status><StatusCode Value="samlp:Success"/></Status>${assertion}</Response>`);
}

/** Why validation failed: a bad request, a refused ticket (Requester + second-level RequestDenied), or our own failure. */
export type SamlFailure = 'request' | 'denied' | 'internal';

const STATUS_CODE: Record<SamlFailure, string> = {
  request: '<StatusCode Value="samlp:Requester"/>',
  denied: '<StatusCode Value="samlp:Requester"><StatusCode Value="samlp:RequestDenied"/></StatusCode>',
  internal: '<StatusCode Value="samlp:Responder"/>',
};

export function renderSamlFailure(now: number, requestId: string, failure: SamlFailure, message: string): string {
  return envelope(`${responseOpen(now, requestId, null)}<Status>${STATUS_CODE[failure]}<StatusMessage>${e(message)}</StatusMessage></Status></Response>`);
}
