import type { LivePolicy } from '../../config/schema';
import { type ApiRoute, defineRoute } from '../route-kit';
import { policySchema, statsSchema, versionSchema } from '../schemas';
import { VERSION } from '../../shared/version';
import type { SystemRouteDeps } from './context';
import { isLocked } from '../../policy/regulator';

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

export function systemRoutes(deps: SystemRouteDeps): ApiRoute[] {
  const { policy, stats, clock } = deps;
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
        return { status: 200, body: { ...policyWithSources(policy.get(), policy.sources()), breachedFilter: deps.breachedFilter.info() } };
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
        const [{ total, enabled, mustChangePassword }, administrators, lockStates, legacyMd5Hashes, activeTokens] = await Promise.all([
          stats.counts(),
          stats.countAdministrators(false),
          stats.lockStates(now),
          stats.countLegacyHashes(),
          deps.tokens.countActive(),
        ]);
        // Locks counted by the regulator's rule, as the account views show them.
        const lockedNow = lockStates.filter((state) => isLocked(state, policy.get().lockout, now)).length;
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
