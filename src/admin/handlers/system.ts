import type { Knex } from 'knex';
import type { LivePolicy } from '../../config/schema';
import { type ApiRoute, defineRoute } from '../route-kit';
import { policySchema, statsSchema, versionSchema } from '../schemas';
import { VERSION } from '../../shared/version';
import type { AdminDeps } from './context';

const POLICY_SECTIONS = ['lockout', 'password', 'administrators', 'accounts'] as const;

/** Each policy value paired with the file (or "environment") that set it, or "default". */
export function policyWithSources(policy: LivePolicy, sources: Record<string, string>) {
  return Object.fromEntries(
    POLICY_SECTIONS.map((section) => [
      section,
      Object.fromEntries(Object.entries(policy[section]).filter(([, value]) => value !== undefined).map(([key, value]) => [key, { value, source: sources[`${section}.${key}`] ?? 'default' }])),
    ]),
  ) as Record<(typeof POLICY_SECTIONS)[number], Record<string, { value: unknown; source: string }>>;
}

async function count(query: Knex.QueryBuilder): Promise<number> {
  const [row] = await query.count<{ n: number | string }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}

export function systemRoutes(deps: AdminDeps): ApiRoute[] {
  const { policy, accounts, clock, db } = deps.services;
  return [
    defineRoute({
      method: 'get',
      path: '/version',
      access: 'admin',
      tag: 'system',
      summary: 'The Portcullis version running (also in the startup banner, `portcullis --version` and portcullis_build_info on /metrics)',
      responses: { 200: { description: 'The version.', schema: versionSchema } },
      async handle() {
        return { status: 200, body: { version: VERSION, node: process.versions.node } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/policy',
      access: 'admin',
      tag: 'system',
      summary: 'The lockout, password, administrator and account policy in force, and where each value came from',
      description: 'Read-only: operators change policy in config/private.config or config/portcullis.json; the service reloads it without a restart.',
      responses: { 200: { description: 'The effective policy.', schema: policySchema } },
      async handle() {
        return { status: 200, body: { ...policyWithSources(policy.get(), policy.sources()), breachedFilter: deps.services.breachedFilter.info() } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/stats',
      access: 'admin',
      tag: 'system',
      summary: 'Account counts, remaining legacy MD5 hashes, active tokens',
      responses: { 200: { description: 'Counts as of now.', schema: statsSchema } },
      async handle() {
        const now = clock.now();
        const knex = db.knex;
        const [total, administrators, enabled, mustChangePassword, lockedNow, legacyMd5Hashes, activeTokens] = await Promise.all([
          count(knex('accounts')),
          accounts.countAdministrators(false),
          count(knex('accounts').where({ enabled: true })),
          count(knex('accounts').where({ must_change_password: true })),
          count(knex('accounts as a').join('lockout_state as l', 'l.username_key', 'a.username_key').where('l.locked_until', '>', now)),
          accounts.countLegacyHashes(),
          deps.tokens.countActive(),
        ]);
        return {
          status: 200,
          body: {
            accounts: { total, administrators, enabled, disabled: total - enabled, lockedNow, mustChangePassword },
            legacyMd5Hashes,
            activeTokens,
            maxAdministratorCount: policy.get().administrators.maxAdministratorCount,
          },
        };
      },
    }),
  ];
}
