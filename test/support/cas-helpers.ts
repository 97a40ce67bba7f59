import { XMLParser, XMLValidator } from 'fast-xml-parser';
import request from 'supertest';
import type { RegisteredService, ServiceInput } from '../../src/cas/service-registry';
import { type TestContext, submitLogin } from './test-app';

/** Helpers for driving the CAS protocol against a test context (see test-app.ts). */

type Agent = ReturnType<typeof request.agent>;

let serviceCounter = 0;

export async function registerService(ctx: TestContext, input: Partial<ServiceInput> & { serviceUrl: string }): Promise<RegisteredService> {
  serviceCounter += 1;
  return ctx.services.serviceRegistry.create({ name: `service-${serviceCounter}`, ...input });
}

/** The `ticket` parameter of a redirect to a service (throws when there is none). */
export function ticketFromRedirect(res: request.Response): string {
  if (res.status !== 303 && res.status !== 302) throw new Error(`expected a redirect, got ${res.status}: ${res.text.slice(0, 300)}`);
  const ticket = new URL(res.headers.location as string).searchParams.get('ticket');
  if (!ticket) throw new Error(`redirect without a ticket: ${res.headers.location}`);
  return ticket;
}

/** Logs in through the form for `service` (fresh credentials) and returns the service ticket. */
export async function loginForTicket(agent: Agent, service: string, user = 'alice', password = 'Correct-Horse-7', extra: Record<string, string> = {}): Promise<string> {
  return ticketFromRedirect(await submitLogin(agent, user, password, { service, ...extra }));
}

/** Single sign-on: GET /cas/login?service= with the agent's TGC, returns the service ticket. */
export async function ssoTicket(agent: Agent, service: string): Promise<string> {
  return ticketFromRedirect(await agent.get(`/cas/login?${new URLSearchParams({ service })}`));
}

/** GET a protocol endpoint with exactly these parameters (no cookies: it is the application calling). */
export function callEndpoint(ctx: TestContext, path: string, params: Record<string, string>): Promise<request.Response> {
  const query = new URLSearchParams(params).toString();
  return request(ctx.url).get(`${path}${query ? `?${query}` : ''}`).ca(ctx.ca).buffer(true);
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, trimValues: true, isArray: (name) => name === 'cas:proxy' });

export type XmlObject = Record<string, unknown>;

/** Parses a CAS XML answer (prefixes kept: `cas:serviceResponse`), after checking it is well-formed. */
export function parseCasXml(xml: string): XmlObject {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${JSON.stringify(valid)}\n${xml}`);
  const doc = parser.parse(xml) as XmlObject;
  return doc['cas:serviceResponse'] as XmlObject;
}

/** The element names directly under an element, in document order (for schema order checks). */
export function childOrder(xml: string, element: string): string[] {
  const start = xml.indexOf(`<${element}`);
  const end = xml.indexOf(`</${element}>`);
  const inner = xml.slice(xml.indexOf('>', start) + 1, end);
  const names: string[] = [];
  let depth = 0;
  for (const m of inner.matchAll(/<(\/?)([A-Za-z_:][\w:.-]*)[^>]*?(\/?)>/g)) {
    if (m[1] === '/') depth -= 1;
    else {
      if (depth === 0) names.push(m[2]);
      if (m[3] !== '/') depth += 1;
    }
  }
  return names;
}
