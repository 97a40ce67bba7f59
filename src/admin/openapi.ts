import { z } from 'zod';
import { VERSION } from '../shared/version';
import { PROBLEM_BASE } from '../http/error-handler';
import { API_ERRORS } from './error-codes';
import type { ApiRoute } from './route-kit';
import { problemSchema } from './schemas';

type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
}

const TAGS = [
  { name: 'tokens', description: 'Bearer tokens: get one with credentials, list and revoke.' },
  { name: 'me', description: 'What every account may do about itself.' },
  { name: 'accounts', description: 'Account administration (administrators only).' },
  { name: 'services', description: 'The CAS service registry (administrators only).' },
  { name: 'audit', description: 'The append-only audit trail.' },
  { name: 'system', description: 'Policy in force, statistics, this document.' },
];

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The body is not valid JSON (problem type invalid-request).',
  401: 'No bearer token, or an unknown, expired or revoked one (problem types unauthenticated, invalid-token).',
  403: 'The token does not allow this call: not an administrator, or a password must be changed first (problem types forbidden, password-change-required).',
  404: 'No such resource (problem type not-found).',
  409: 'Refused by the account rules: administrator-limit (names MaxAdministratorCount), last-administrator, username-taken.',
  412: 'If-Match does not match the current ETag (problem type precondition-failed).',
  415: 'The body is not application/json (problem type unsupported-media-type).',
  422: 'Validation failed; `errors` lists each field and the rule it broke (problem types validation-failed, password-policy).',
  423: 'Locked by the lockout policy (problem type account-locked).',
  428: 'If-Match is required (problem type precondition-required).',
  503: 'A dependency (database, directory) cannot be reached.',
};

/**
 * Converts a zod schema to JSON Schema 2020-12 (what OpenAPI 3.1 uses) and
 * moves named sub-schemas (`.meta({ id })`) into components.schemas.
 */
class SchemaCollector {
  readonly components: Record<string, JsonSchema> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    delete json.$defs;
    delete json.$schema;
    for (const [id, def] of Object.entries(defs)) {
      const rewritten = rewriteRefs(def) as JsonSchema;
      const existing = this.components[id];
      if (existing && JSON.stringify(existing) !== JSON.stringify(rewritten)) {
        throw new Error(`OpenAPI: schema id "${id}" has two different shapes (give the input and output variants different ids)`);
      }
      this.components[id] = rewritten;
    }
    return rewriteRefs(json) as JsonSchema;
  }
}

function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, key === '$ref' && typeof value === 'string' ? value.replace(/^#\/\$defs\//, '#/components/schemas/') : rewriteRefs(value)]),
  );
}

function parametersOf(collector: SchemaCollector, schema: z.ZodType | undefined, location: 'query' | 'path'): unknown[] {
  if (!schema) return [];
  const json = collector.convert(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: location, required: location === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

function errorStatuses(route: ApiRoute): number[] {
  const statuses = new Set(route.errors ?? []);
  if (route.access !== 'public') statuses.add(401);
  if (route.access === 'admin') statuses.add(403);
  if (route.body) [400, 415, 422].forEach((s) => statuses.add(s));
  if (route.query) statuses.add(422);
  if (route.params) statuses.add(404);
  return [...statuses].sort((a, b) => a - b);
}

/**
 * The OpenAPI 3.1 document for a route table: generated from the same zod schemas the router validates with.
 * `serverUrl` is the API's absolute base URL (from server.publicUrl).
 */
export function buildOpenApi(routes: ApiRoute[], serverUrl: string): OpenApiDocument {
  const collector = new SchemaCollector();
  const problemRef = collector.convert(problemSchema, 'output');
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const operation: Record<string, unknown> = {
      operationId: `${route.method}${route.path.replace(/\{([^}]+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      tags: [route.tag],
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      security: route.access === 'public' ? [] : [{ bearerAuth: [] }],
      'x-portcullis-access': route.access,
    };
    const parameters = [
      ...parametersOf(collector, route.params, 'path'),
      ...parametersOf(collector, route.query, 'query'),
      ...(route.requestHeaders ?? []).map((h) => ({ name: h.name, in: 'header', required: h.required, description: h.description, schema: { type: 'string' } })),
    ];
    if (parameters.length > 0) operation.parameters = parameters;
    if (route.body) operation.requestBody = { required: true, content: { 'application/json': { schema: collector.convert(route.body, 'input') } } };
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = {
        description: spec.description,
        ...(spec.headers ? { headers: Object.fromEntries(Object.entries(spec.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) } : {}),
        ...(spec.schema ? { content: { 'application/json': { schema: collector.convert(spec.schema, 'output') } } } : {}),
      };
    }
    for (const status of errorStatuses(route)) {
      responses[String(status)] ??= { description: ERROR_DESCRIPTIONS[status] ?? 'Refused.', content: { 'application/problem+json': { schema: problemRef } } };
    }
    operation.responses = responses;
    paths[route.path] ??= {};
    paths[route.path][route.method] = operation;
  }
  const problemTypes = [...new Set(Object.values(API_ERRORS).map((e) => e.code.replace(/_/g, '-')))]
    .concat(['administrator-limit', 'last-administrator', 'username-taken', 'password-policy', 'directory-password', 'not-found', 'invalid-request', 'unavailable'])
    .map((code) => `${PROBLEM_BASE}${code}`);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Portcullis administration API',
      version: VERSION,
      description:
        'Administration of Portcullis over HTTPS. Authenticate with POST /tokens, then send "Authorization: Bearer <token>". ' +
        'Errors are application/problem+json (RFC 9457); their `type` is one of: ' + problemTypes.join(', ') + '.',
    },
    servers: [{ url: serverUrl }],
    tags: TAGS,
    paths,
    components: {
      schemas: collector.components,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token from POST /api/v1/tokens (pcat_...).' } },
    },
  };
}
