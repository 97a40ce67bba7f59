import { z } from 'zod';

/**
 * `authentication.backends`: the ordered list of backends. Each entry is a
 * strict object discriminated by `type`; several `ldap` entries may be
 * configured, each with a unique `name` (the name is stored as the `source`
 * of the local accounts it vouches for, so it must not change once used).
 */

const backendName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be lower-case letters, digits and "-", starting with a letter (max 32)');

/** A secret given by environment variable or by a file (never inline in the config). */
const secretSource = {
  /** Environment variable holding the password. */
  passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
  /** File holding the password (must not be world-readable). */
  passwordFile: z.string().min(1).optional(),
};

const serviceAccountSchema = z
  .strictObject({
    /** DN to bind as for searches (for Active Directory a UPN such as svc@EXAMPLE.COM also works). */
    dn: z.string().min(1),
    ...secretSource,
  })
  .refine((s) => (s.passwordEnv === undefined) !== (s.passwordFile === undefined), {
    message: 'exactly one of passwordEnv or passwordFile is required',
    path: ['passwordEnv'],
  });

/** Where a directory is, and how to reach it safely. Shared by `ldap` and the `windows` directory lookup. */
const directoryConnection = {
  /** ldaps://host:636 or ldap://host:389 (ldap:// needs startTls or allowInsecure). Several URLs = failover, in order. */
  url: z.union([z.string(), z.array(z.string()).min(1)]).transform((u) => (Array.isArray(u) ? u : [u])),
  /** Upgrade an ldap:// connection with StartTLS before anything is sent. */
  startTls: z.boolean().default(false),
  /** Permit plain ldap:// without TLS (passwords cross the network in clear; a warning is logged at every start). */
  allowInsecure: z.boolean().default(false),
  /** PEM CA bundle that signed the directory's certificate (default: Node's built-in public CAs). */
  caFile: z.string().min(1).optional(),
  /** Name the certificate must carry, when it differs from the host in `url`. */
  tlsServerName: z.string().min(1).optional(),
  serviceAccount: serviceAccountSchema.optional(),
  connectTimeoutSeconds: z.number().min(0.1).max(60).default(5),
  operationTimeoutSeconds: z.number().min(0.1).max(120).default(10),
  /**
   * One login's whole budget against this directory (pool wait, connect, StartTLS, search, bind, group search);
   * no retry or queue extends it. Default: connectTimeoutSeconds + operationTimeoutSeconds.
   */
  loginDeadlineSeconds: z.number().min(0.1).max(180).optional(),
  /** Circuit breaker: this many timed-out calls in a row mark the directory down (logins fail at once); 0 = off. */
  breakerFailures: z.number().int().min(0).max(1000).default(3),
  /** How long the directory stays marked down before one login is let through to probe it. */
  breakerCooldownSeconds: z.number().min(0.1).max(3600).default(10),
  /** Connections kept open per purpose (service-account searches; user binds). */
  poolSize: z.number().int().min(1).max(64).default(4),
};

/** Which directory attributes become what (all optional; names are case-insensitive). */
const attributeMappingSchema = z
  .strictObject({
    displayName: z.string().min(1).default('displayName'),
    mail: z.string().min(1).default('mail'),
    /** Attribute listing the user's group DNs (OpenLDAP memberOf overlay, Active Directory). */
    groups: z.string().min(1).default('memberOf'),
    /** Further attributes released to services as they are (e.g. employeeNumber). */
    release: z.array(z.string().min(1)).default([]),
  })
  .prefault({});

const roleSchema = z.enum(['admin', 'user']);

const commonBackendFields = {
  /** Count failures against this backend towards the NEC lockout (checked before the directory is asked). */
  lockout: z.boolean().default(true),
  attributes: attributeMappingSchema,
  /** Group DN → Portcullis role; `admin` is still subject to administrators.maxAdministratorCount. */
  groupRoles: z.record(z.string().min(1), roleSchema).default({}),
  /**
   * Optional group search for directories without a memberOf attribute:
   * groups under `base` matching `filter` ({{dn}} = the user's DN) are the user's groups.
   */
  groupSearch: z.strictObject({ base: z.string().min(1), filter: z.string().min(1).default('(member={{dn}})') }).optional(),
};

export const internalBackendSchema = z.strictObject({
  type: z.literal('internal'),
  name: z.literal('internal').default('internal'),
});

export const ldapBackendSchema = z
  .strictObject({
    type: z.literal('ldap'),
    name: backendName.default('ldap'),
    ...directoryConnection,
    /** Search-then-bind: base and filter template ({{username}} is inserted as a value, never parsed). */
    searchBase: z.string().min(1).optional(),
    searchFilter: z.string().min(1).default('(uid={{username}})'),
    searchScope: z.enum(['sub', 'one']).default('sub'),
    /** Direct bind: the bind name built from the login name, e.g. uid={{username}},ou=people,dc=example,dc=com or {{username}}@EXAMPLE.COM. */
    bindDnTemplate: z.string().min(1).optional(),
    ...commonBackendFields,
  })
  .superRefine((b, ctx) => {
    const searchMode = b.serviceAccount !== undefined || b.searchBase !== undefined;
    if (b.bindDnTemplate === undefined && !(b.serviceAccount && b.searchBase)) {
      ctx.addIssue({ code: 'custom', path: ['searchBase'], message: 'either serviceAccount + searchBase (search-then-bind) or bindDnTemplate (direct bind) is required' });
    }
    if (b.bindDnTemplate !== undefined && b.serviceAccount !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['bindDnTemplate'], message: 'bindDnTemplate (direct bind) and serviceAccount (search-then-bind) exclude each other' });
    }
    if (b.bindDnTemplate !== undefined && !b.bindDnTemplate.includes('{{username}}')) {
      ctx.addIssue({ code: 'custom', path: ['bindDnTemplate'], message: 'must contain {{username}}' });
    }
    if ((searchMode || b.bindDnTemplate === undefined) && !b.searchFilter.includes('{{username}}')) {
      ctx.addIssue({ code: 'custom', path: ['searchFilter'], message: 'must contain {{username}}' });
    }
    checkTransport(b, ctx);
  });

export const windowsBackendSchema = z
  .strictObject({
    type: z.literal('windows'),
    name: backendName.default('windows'),
    /** Kerberos realm (AD DNS domain in upper case), e.g. EXAMPLE.COM. user@realm logins and bare names use it. */
    realm: z.string().regex(/^[A-Za-z0-9.-]+$/).transform((r) => r.toUpperCase()),
    /** NetBIOS domain name for DOMAIN\user logins, e.g. EXAMPLE. */
    domain: z.string().regex(/^[A-Za-z0-9-]{1,15}$/).transform((d) => d.toUpperCase()).optional(),
    /** Further user@suffix forms meaning this realm (e.g. an alternative UPN suffix). */
    realmAliases: z.array(z.string().regex(/^[A-Za-z0-9.-]+$/).transform((r) => r.toUpperCase())).default([]),
    /** Whether a bare name (no domain) is tried against this realm, in chain order. */
    bareNames: z.boolean().default(true),
    /** krb5.conf naming the realm's KDCs (set as KRB5_CONFIG for the Kerberos library and tools). */
    krb5Config: z.string().min(1),
    /** Keytab with the service principal's key: verifies the KDC's answers and accepts SPNEGO tokens. */
    keytab: z.string().min(1),
    /** Service principal in the keytab, e.g. HTTP/sso.example.com@EXAMPLE.COM. */
    servicePrincipal: z.string().regex(/^[^/@\s]+\/[^/@\s]+@[A-Za-z0-9.-]+$/, 'must look like HTTP/host@REALM'),
    /** Answer browsers with WWW-Authenticate: Negotiate on /cas/login (integrated Windows sign-in). */
    spnego: z.boolean().default(false),
    kerberosTimeoutSeconds: z.number().min(1).max(60).default(10),
    /**
     * Optional AD LDAP lookup (service account) for attributes, groups and
     * precise account states (disabled / expired / must change password).
     */
    directory: z
      .strictObject({
        ...directoryConnection,
        searchBase: z.string().min(1),
        /** {{username}} = sAMAccountName part, {{upn}} = user@REALM. */
        searchFilter: z.string().min(1).default('(sAMAccountName={{username}})'),
      })
      .superRefine((d, ctx) => {
        if (!d.serviceAccount) ctx.addIssue({ code: 'custom', path: ['serviceAccount'], message: 'the directory lookup needs a service account' });
        checkTransport(d, ctx);
      })
      .optional(),
    ...commonBackendFields,
  });

function checkTransport(d: { url: string[]; startTls: boolean; allowInsecure: boolean }, ctx: z.RefinementCtx): void {
  d.url.forEach((url, index) => {
    const scheme = /^(ldaps?):\/\/[^/]+\/?$/i.exec(url)?.[1]?.toLowerCase();
    if (!scheme) {
      ctx.addIssue({ code: 'custom', path: ['url', index], message: `"${url}" is not an ldap:// or ldaps:// URL (host[:port] only)` });
    } else if (scheme === 'ldap' && !d.startTls && !d.allowInsecure) {
      ctx.addIssue({ code: 'custom', path: ['url', index], message: 'plain ldap:// sends passwords in clear: use ldaps://, set startTls: true, or set allowInsecure: true' });
    } else if (scheme === 'ldaps' && d.startTls) {
      ctx.addIssue({ code: 'custom', path: ['startTls'], message: 'startTls applies to ldap:// URLs, not ldaps://' });
    }
  });
}

export const backendSchema = z.discriminatedUnion('type', [internalBackendSchema, ldapBackendSchema, windowsBackendSchema]);

export const backendsSchema = z
  .array(backendSchema)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((b, index) => {
      if (seen.has(b.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `backend name "${b.name}" is used twice; give each backend its own name` });
      seen.add(b.name);
    });
    if (list.filter((b) => b.type === 'windows').length > 1) {
      ctx.addIssue({ code: 'custom', path: [], message: 'only one windows backend is supported (Kerberos settings are process-wide)' });
    }
  });

export type LdapBackendConfig = z.output<typeof ldapBackendSchema>;
export type WindowsBackendConfig = z.output<typeof windowsBackendSchema>;
export type DirectoryConnectionConfig = Pick<LdapBackendConfig, keyof typeof directoryConnection>;
export type AttributeMapping = LdapBackendConfig['attributes'];
