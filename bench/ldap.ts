import { readFileSync } from 'node:fs';
import { Client, EqualityFilter } from 'ldapts';
import { LdapBackend } from '../src/authn/ldap/ldap-backend';
import { ldapBackendSchema } from '../src/config/backends-schema';
import { createLogger } from '../src/shared/logger';
import { type BenchOptions, type Figure, compareAlternating, measure, round, testServerEnv } from './support';

/**
 * LDAP logins per second through the LDAP backend (search-then-bind with the
 * pooled service-account and bind connections, against the local slapd from
 * scripts/test-servers/up.sh, over LDAPS), against raw ldapts doing the same
 * protocol work from this process on the same number of connections: a
 * search for the user on a service-bound connection, then a simple bind as
 * the user (what `ldapsearch -D <user> -w <pw> ... '(uid=x)'` does). Also
 * reports bare binds per second (one round trip; a login needs two).
 */

interface SlapdEnv {
  ldapsUrl: string;
  caFile: string;
  peopleDn: string;
  serviceDn: string;
  servicePassword: string;
  users: Record<string, { uid: string; password: string; dn: string }>;
}

const slapdEnv = () => testServerEnv<SlapdEnv>('ldap', 'the LDAP benchmark needs the local slapd');

/** A raw client; ldapts connects on its first operation. */
function rawClient(env: SlapdEnv, ca: Buffer): Client {
  return new Client({ url: env.ldapsUrl, tlsOptions: { ca: [ca] } });
}

const bind = (client: Client, dn: string, password: string) => client.bind(dn, password);

const searchOne = async (client: Client, base: string, uid: string) => {
  const { searchEntries } = await client.search(base, { scope: 'sub', filter: new EqualityFilter({ attribute: 'uid', value: uid }), attributes: ['displayName', 'mail', 'memberOf'] });
  return searchEntries[0]?.dn ?? '';
};

/** `options.concurrency` workers; the backend pool and the raw connections are both sized to it. */
export async function benchLdap(options: BenchOptions): Promise<Figure[]> {
  const env = slapdEnv();
  const ca = readFileSync(env.caFile);
  const users = ['alice', 'bob', 'carol', 'dave', 'erin'].map((uid) => env.users[uid]);
  const concurrency = options.concurrency;
  const config = ldapBackendSchema.parse({
    type: 'ldap',
    url: env.ldapsUrl,
    caFile: env.caFile,
    serviceAccount: { dn: env.serviceDn, passwordEnv: 'BENCH_LDAP_SERVICE_PASSWORD' },
    searchBase: env.peopleDn,
    poolSize: concurrency,
  });
  const backend = new LdapBackend(config, { BENCH_LDAP_SERVICE_PASSWORD: env.servicePassword }, createLogger('error'), 'bench');
  const searchers = Array.from({ length: concurrency }, () => rawClient(env, ca));
  const binders = Array.from({ length: concurrency }, () => rawClient(env, ca));
  await Promise.all(searchers.map((c) => bind(c, env.serviceDn, env.servicePassword)));
  const counters = new Array<number>(concurrency).fill(0);
  const nextUser = (worker: number) => users[counters[worker]++ % users.length];
  try {
    options.log(`LDAP search+bind logins via the backend vs raw ldapts search+bind (${env.ldapsUrl}, ${concurrency} workers, pool ${concurrency}), alternating rounds, ${options.seconds}s each`);
    const { baseline: raw, target: logins } = await compareAlternating(
      options,
      3,
      async (worker) => {
        const user = nextUser(worker);
        const dn = await searchOne(searchers[worker], env.peopleDn, user.uid);
        await bind(binders[worker], dn, user.password);
      },
      async (worker) => {
        const user = nextUser(worker);
        const outcome = await backend.authenticate({ username: user.uid, password: user.password });
        if (!outcome.ok) throw new Error(`bench login failed for ${user.uid}: ${outcome.reason}`);
      },
      concurrency,
    );
    const bare = await measure(Math.max(1, options.seconds / 3), concurrency, async (worker) => {
      const user = nextUser(worker);
      await bind(binders[worker], user.dn, user.password);
    });
    return [
      { name: 'ldap_logins_per_second', value: round(logins.perSecond), unit: 'logins/s' },
      { name: 'ldap_raw_search_bind_per_second', value: round(raw.perSecond), unit: 'search+bind/s' },
      { name: 'ldap_login_to_raw_ratio', value: round(logins.perSecond / raw.perSecond, 3), unit: 'ratio (target >= 0.7)' },
      { name: 'ldap_raw_binds_per_second', value: round(bare.perSecond), unit: 'binds/s' },
      { name: 'ldap_login_to_bare_bind_ratio', value: round(logins.perSecond / bare.perSecond, 3), unit: 'ratio (a login is 2 round trips)' },
      { name: 'ldap_login_p50_latency', value: round(logins.p50), unit: 'ms' },
      { name: 'ldap_login_p99_latency', value: round(logins.p99), unit: 'ms' },
    ];
  } finally {
    await backend.close();
    await Promise.all([...searchers, ...binders].map((client) => client.unbind().catch(() => undefined)));
  }
}
