import express, { type Request, type Response, Router } from 'express';
import type { Config } from '../config/schema';
import type { ErrorRenderer, Problem } from '../http/error-handler';
import { noStore } from '../http/no-store';
import { type Params, queryParams } from '../http/params';
import type { PublicUrl } from '../http/public-url';
import type { Clock } from '../shared/clock';
import { CAS_ERROR, ENDPOINTS } from './constants';
import type { CasProtocol } from './cas-protocol';
import { CasProtocolError, invalidRequest } from './errors';
import { renderCas1 } from './responses/cas1';
import { renderJson } from './responses/json';
import type { ResponseFormat, ServiceResponse } from './responses/model';
import { renderXml } from './responses/xml';
import { parseSamlRequest, renderSamlFailure, renderSamlSuccess } from './saml';
import { checkServiceUrl } from './service-pattern';
import type { ValidationOptions } from './validate';

/** Validation metrics hook (implemented by the ops metrics; optional so the protocol works without it). */
export interface ValidationMetrics {
  ticketValidated(endpoint: string, outcome: 'success' | 'failure', seconds: number): void;
}

export interface CasRouteDeps {
  cas: CasProtocol;
  clock: Clock;
  config: Config;
  publicUrl: PublicUrl;
  metrics?: ValidationMetrics;
}

/** The spec: a boolean parameter counts when present; "false" and "0" are read as absent, like /cas/login does. */
export function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== 'false' && value !== '0';
}

function readFormat(params: Params): ResponseFormat {
  const format = (params.get('format') ?? 'XML').toUpperCase();
  if (format !== 'XML' && format !== 'JSON') throw invalidRequest(`Unsupported format '${params.get('format')}'; use XML or JSON.`);
  return format;
}

// For rendering an error when the query itself could not be parsed.
const wantsJson = (req: Request) => /[?&]format=json(&|$)/i.test(req.originalUrl);

function sendServiceResponse(res: Response, format: ResponseFormat, response: ServiceResponse, status = 200): void {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  if (format === 'JSON') res.status(status).type('application/json; charset=utf-8').send(renderJson(response));
  else res.status(status).type('application/xml; charset=utf-8').send(renderXml(response));
}

const VALIDATION_ENDPOINTS: [string, ValidationOptions][] = [
  [ENDPOINTS.serviceValidate, { acceptProxyTickets: false, releaseAttributes: false }],
  [ENDPOINTS.proxyValidate, { acceptProxyTickets: true, releaseAttributes: false }],
  [ENDPOINTS.p3ServiceValidate, { acceptProxyTickets: false, releaseAttributes: true }],
  [ENDPOINTS.p3ProxyValidate, { acceptProxyTickets: true, releaseAttributes: true }],
];

/** How long a SAML assertion may be relied on by the client (Conditions NotOnOrAfter). */
const SAML_VALIDITY_SECONDS = 30;

type Measure = <T>(path: string, work: () => Promise<T>) => Promise<T>;

/** Runs one validation and reports its outcome and duration ("serviceValidate", "p3/proxyValidate"...). */
function measurer(metrics: ValidationMetrics | undefined): Measure {
  return async (path, work) => {
    const started = process.hrtime.bigint();
    const report = (outcome: 'success' | 'failure') => metrics?.ticketValidated(path.slice('/cas/'.length), outcome, Number(process.hrtime.bigint() - started) / 1e9);
    try {
      const result = await work();
      report('success');
      return result;
    } catch (error) {
      report('failure');
      throw error;
    }
  };
}

type Handler = (req: Request, res: Response) => Promise<void>;

/** CAS 1.0 /validate: `yes\nuser\n` or `no\n`. */
function cas1Validate({ cas }: CasRouteDeps, measured: Measure): Handler {
  return async (req, res) => {
    const params = queryParams(req);
    const result = await measured(ENDPOINTS.validate, () =>
      cas.validator.validate({ service: params.get('service'), ticket: params.get('ticket'), renew: isSet(params.get('renew')) }, { acceptProxyTickets: false, releaseAttributes: false }),
    );
    res.status(200).type('text/plain; charset=utf-8').send(renderCas1(result.user));
  };
}

/** /serviceValidate, /proxyValidate and their /p3 versions, in XML or JSON. */
function serviceValidate({ cas }: CasRouteDeps, measured: Measure, path: string, options: ValidationOptions): Handler {
  return async (req, res) => {
    const params = queryParams(req);
    const format = readFormat(params);
    const { grant: _grant, ...success } = await measured(path, () =>
      cas.validator.validate({ service: params.get('service'), ticket: params.get('ticket'), pgtUrl: params.get('pgtUrl'), renew: isSet(params.get('renew')) }, options),
    );
    sendServiceResponse(res, format, { kind: 'authenticationSuccess', success });
  };
}

function proxy({ cas }: CasRouteDeps): Handler {
  return async (req, res) => {
    const params = queryParams(req);
    const format = readFormat(params);
    const proxyTicket = await cas.proxies.proxyTicket(params.get('pgt'), params.get('targetService'));
    sendServiceResponse(res, format, { kind: 'proxySuccess', proxyTicket });
  };
}

/** SAML 1.1 /samlValidate: the ticket comes as the artifact of a SOAP request, the service as TARGET. */
function samlValidate(deps: CasRouteDeps, measured: Measure): Handler {
  return async (req, res) => {
    const target = queryParams(req).get('TARGET');
    if (!target) throw invalidRequest("The 'TARGET' parameter (the service URL) is required.");
    // Spec §4.2.1: the TARGET shall use HTTPS and attributes must not go to a non-SSL site.
    if (!checkServiceUrl(target, { httpsOnly: true }).ok) throw invalidRequest("'TARGET' must be an https URL.");
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const saml = parseSamlRequest(body);
    res.locals.samlRequestId = saml.requestId;
    const result = await measured(ENDPOINTS.samlValidate, () =>
      deps.cas.validator.validate({ service: target, ticket: saml.artifact, renew: false }, { acceptProxyTickets: false, releaseAttributes: true }),
    );
    const issuer = deps.publicUrl.hostname();
    const assertion = { now: deps.clock.now(), requestId: saml.requestId, target, issuer, user: result.user, attributes: result.attributes!, validitySeconds: SAML_VALIDITY_SECONDS };
    res.status(200).type('text/xml; charset=utf-8').send(renderSamlSuccess(assertion));
  };
}

/**
 * /validate, the four XML/JSON validation endpoints, /proxy and /samlValidate.
 * Mounted before the login pages (the hot path of single sign-on); each sets
 * no-store itself, so its failures, rendered by casErrorRenderer, carry it too.
 */
export function casValidationRoutes(deps: CasRouteDeps): Router {
  const router = Router();
  const measured = measurer(deps.metrics);
  router.get(ENDPOINTS.validate, noStore, cas1Validate(deps, measured));
  for (const [path, options] of VALIDATION_ENDPOINTS) router.get(path, noStore, serviceValidate(deps, measured, path, options));
  router.get(ENDPOINTS.proxy, noStore, proxy(deps));
  router.post(ENDPOINTS.samlValidate, noStore, express.raw({ type: () => true, limit: '64kb' }), samlValidate(deps, measured));
  return router;
}

interface Failure {
  code: (typeof CAS_ERROR)[keyof typeof CAS_ERROR];
  description: string;
  status: number;
}

function toFailure(problem: Problem, error: unknown): Failure {
  if (error instanceof CasProtocolError) return { code: error.code, description: error.description, status: error.status };
  // Client mistakes (duplicate or badly encoded parameters, oversized bodies) are answered like missing parameters.
  if (problem.status < 500) return { code: CAS_ERROR.INVALID_REQUEST, description: problem.detail, status: 200 };
  return { code: CAS_ERROR.INTERNAL_ERROR, description: problem.detail, status: problem.status };
}

/**
 * Errors on protocol endpoints come out in the endpoint's own failure format
 * (never an HTML page): `no` for /validate, CAS XML or JSON, a SAML failure
 * for /samlValidate. Plain-text for the REST ticket API.
 */
export const casErrorRenderer: ErrorRenderer = (req, res, problem, error) => {
  const path = req.path;
  if (path === ENDPOINTS.validate) {
    const failure = toFailure(problem, error);
    res.status(failure.status).type('text/plain; charset=utf-8').send(renderCas1(null));
    return true;
  }
  const validation = VALIDATION_ENDPOINTS.some(([p]) => p === path);
  if (validation || path === ENDPOINTS.proxy) {
    const failure = toFailure(problem, error);
    const kind = path === ENDPOINTS.proxy ? 'proxyFailure' : 'authenticationFailure';
    sendServiceResponse(res, wantsJson(req) ? 'JSON' : 'XML', { kind, code: failure.code, description: failure.description }, failure.status);
    return true;
  }
  if (path === ENDPOINTS.samlValidate) {
    const failure = toFailure(problem, error);
    const kind = failure.code === CAS_ERROR.INVALID_REQUEST ? 'request' : failure.code === CAS_ERROR.INTERNAL_ERROR ? 'internal' : 'denied';
    const requestId = typeof res.locals.samlRequestId === 'string' ? res.locals.samlRequestId : '';
    res.status(failure.status).type('text/xml; charset=utf-8').send(renderSamlFailure(Date.now(), requestId, kind, `${failure.code}: ${failure.description}`));
    return true;
  }
  if (path === ENDPOINTS.restTickets || path.startsWith(`${ENDPOINTS.restTickets}/`)) {
    res.status(problem.status).type('text/plain; charset=utf-8').send(`${problem.detail}\n`);
    return true;
  }
  return false;
};
