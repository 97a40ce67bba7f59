import { z } from 'zod';
import { backendsSchema } from './backends-schema';
import { AA_TEXT, contrastRatio } from '../shared/contrast';

/**
 * The whole configuration: one schema, every default in one place. Objects are
 * strict, so a misspelt key is an error rather than a silently ignored setting.
 */

const positiveSeconds = z.number().int().min(1);

export const argon2Schema = z
  .strictObject({
    // OWASP Password Storage Cheat Sheet minimum for Argon2id: m=19 MiB, t=2, p=1.
    memoryCost: z.number().int().min(19456).default(19456),
    timeCost: z.number().int().min(2).default(2),
    parallelism: z.number().int().min(1).max(16).default(1),
  })
  .prefault({});

export const lockoutSchema = z
  .strictObject({
    /** NEC `MaxAllowedLoginFailureCount`: consecutive failures that lock a name; 0 turns lockout off. */
    maxAllowedLoginFailureCount: z.number().int().min(0).max(100).default(3),
    /** NEC `UserLockoutTimeout`: seconds a locked name stays locked. */
    userLockoutTimeout: positiveSeconds.max(31536000).default(900),
  })
  .prefault({});

export const passwordPolicySchema = z
  .strictObject({
    minLength: z.number().int().min(6).max(128).default(8),
    maxLength: z.number().int().min(8).max(1024).default(128),
    requireDigitOrSpecial: z.boolean().default(true),
    forbidUsername: z.boolean().default(true),
    useBlocklist: z.boolean().default(true),
    /** Extra blocked passwords, one per line, added to the shipped list. */
    blocklistFile: z.string().optional(),
    /** Days before a password must be changed at login; 0 = never expires. */
    maxAgeDays: z.number().int().min(0).max(3650).default(0),
    /** How many previous passwords a change may not reuse; 0 = no history. */
    historySize: z.number().int().min(0).max(24).default(5),
    /** zxcvbn score (0-4) a new password must reach; 0 turns the estimate off (NEC-style `PasswordMinStrengthScore`). */
    minStrengthScore: z.number().int().min(0).max(4).default(3),
    /** Site words that make a guess cheaper, given to the estimator with the user's own name and e-mail. */
    contextWords: z.array(z.string().min(1).max(100)).max(1000).default(['portcullis', 'nec', 'ma4000', 'univerge']),
    /**
     * Breached-password filter (`portcullis passwords import-breached`); relative paths are under the
     * data directory. The default file is used when present; a file named here must exist.
     */
    breachedFilterFile: z.string().optional(),
  })
  .prefault({})
  .refine((p) => p.maxLength >= p.minLength, { message: 'maxLength must be at least minLength', path: ['maxLength'] });

export const administratorsSchema = z
  .strictObject({
    /** NEC guidance: "limit the number of administrator accounts to two or less". */
    maxAdministratorCount: z.number().int().min(1).max(100).default(2),
  })
  .prefault({});

export const accountsSchema = z
  .strictObject({
    /** Accounts unused for this many days are disabled; 0 = off. */
    inactiveAccountDisableDays: z.number().int().min(0).max(3650).default(0),
    bootstrapAdminUsername: z.string().min(1).max(64).default('admin'),
  })
  .prefault({});

export const tlsSchema = z
  .strictObject({
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  })
  .prefault({})
  .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
    message: 'certFile and keyFile must be set together',
    path: ['certFile'],
  });

export const serverSchema = z
  .strictObject({
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(8443),
    /** Base URL users reach Portcullis at (used in REST Location headers); default https://localhost:port. */
    publicUrl: z.url({ protocol: /^https$/ }).optional(),
    /** express `trust proxy` value: false, a hop count, or a list of trusted proxy addresses/subnets. */
    trustProxy: z.union([z.boolean(), z.number().int().min(0), z.array(z.string())]).default(false),
    tls: tlsSchema,
    /** Bound on how long SIGTERM waits for in-flight requests. */
    shutdownGraceSeconds: positiveSeconds.max(300).default(10),
    /** A client must finish the TLS handshake and send the request headers within this. */
    headersTimeoutSeconds: positiveSeconds.max(600).default(20),
    /** ...and the whole request, body included, within this (slow-body clients are cut off). */
    requestTimeoutSeconds: positiveSeconds.max(3600).default(30),
    /** An idle keep-alive connection is closed after this. */
    keepAliveTimeoutSeconds: positiveSeconds.max(600).default(5),
    /** Concurrent connections per client address (not counting peers trusted by trustProxy); 0 = no cap. */
    maxConnectionsPerClient: z.number().int().min(0).max(100_000).default(50),
  })
  .prefault({})
  .refine((s) => s.headersTimeoutSeconds <= s.requestTimeoutSeconds, {
    message: 'headersTimeoutSeconds must not exceed requestTimeoutSeconds',
    path: ['headersTimeoutSeconds'],
  });

export const databaseSchema = z
  .strictObject({
    client: z.enum(['sqlite', 'postgres', 'mssql']).default('sqlite'),
    /** SQLite file; relative paths are under the data directory. */
    filename: z.string().default('portcullis.sqlite'),
    /** postgres:// or mssql:// URL (also DATABASE_URL). A password in it is accepted but prefer passwordFile/env. */
    url: z.string().optional(),
    host: z.string().optional(),
    port: z.number().int().min(1).max(65535).optional(),
    database: z.string().optional(),
    user: z.string().optional(),
    /** File holding the database password (must not be world-readable). */
    passwordFile: z.string().optional(),
    /** TLS to the server (pg `ssl`, mssql `encrypt`). */
    encrypt: z.boolean().default(false),
    trustServerCertificate: z.boolean().default(false),
    poolMin: z.number().int().min(0).default(0),
    poolMax: z.number().int().min(1).max(200).default(10),
    /**
     * SQLite page cache, MiB (used only as the database grows). Ticket lookups hit random
     * index pages; 256 MiB keeps the indexes of about a million live tickets in memory.
     */
    sqliteCacheMiB: z.number().int().min(2).max(16384).default(256),
  })
  .prefault({});

export const ticketsSchema = z
  .strictObject({
    /** TGT (single sign-on session) expires after this much inactivity... */
    tgtIdleTimeoutSeconds: positiveSeconds.default(7200),
    /** ...and at the latest this long after login. */
    tgtHardTimeoutSeconds: positiveSeconds.default(28800),
    /** Service and proxy tickets (Apereo's default: 10 s). */
    serviceTicketLifetimeSeconds: positiveSeconds.max(300).default(10),
    proxyGrantingTicketLifetimeSeconds: positiveSeconds.default(7200),
    purgeIntervalSeconds: positiveSeconds.default(60),
  })
  .prefault({});

/** CAS protocol layer (service registry, proxy callbacks, single logout). */
export const casSchema = z
  .strictObject({
    /** PEM bundle of CAs trusted (in addition to Node's public roots) for outbound HTTPS: proxy callbacks and single-logout POSTs. */
    outboundCaFile: z.string().optional(),
    /** Bound on a proxy callback (pgtUrl) GET; the validation waits for it. */
    proxyCallbackTimeoutSeconds: positiveSeconds.max(60).default(5),
    /** How long each instance caches the registered-service list (0 = read the database every time). */
    serviceCacheSeconds: z.number().int().min(0).max(300).default(5),
    singleLogout: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Bound on one back-channel logout POST. */
        timeoutSeconds: positiveSeconds.max(60).default(5),
        /** Attempts per service before a logout notification is dropped. */
        maxAttempts: z.number().int().min(1).max(20).default(5),
        /** Delay before the first retry; doubles on every further attempt. */
        retryDelaySeconds: positiveSeconds.max(3600).default(30),
        /** How often each instance looks for due deliveries. */
        workerIntervalSeconds: positiveSeconds.max(3600).default(10),
      })
      .prefault({}),
  })
  .prefault({});

export const opsSchema = z
  .strictObject({
    /** Separate plain-HTTP port for /health/live, /health/ready and /metrics; unset = served on the main HTTPS port. */
    port: z.number().int().min(0).max(65535).optional(),
    /** Address the ops port binds to (0.0.0.0 in containers, so the load balancer and Prometheus reach it). */
    host: z.string().default('127.0.0.1'),
    /** Serve /metrics (Prometheus text format). */
    metrics: z.boolean().default(true),
    /** Failed logins per client address (IPv4, or IPv6 /64) per window, across all instances; 0 = off. */
    clientThrottle: z
      .strictObject({
        maxFailures: z.number().int().min(0).max(1_000_000).default(100),
        windowSeconds: positiveSeconds.max(86400).default(600),
      })
      .prefault({}),
  })
  .prefault({});

export const loggingSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .prefault({});

export const apiSchema = z
  .strictObject({
    /** Lifetime of an administration API bearer token (POST /api/v1/tokens). */
    tokenTtlSeconds: positiveSeconds.min(60).max(86400).default(900),
  })
  .prefault({});

/** Second factors (TOTP, recovery codes). */
export const mfaSchema = z
  .strictObject({
    /** Who must sign in with a second factor: nobody, administrators, or everyone. Registered services may require it too. */
    require: z.enum(['never', 'admins', 'all']).default('admins'),
    /** File with the 32-byte key (64 hex digits) that encrypts TOTP secrets at rest; not world-readable. Default: <data>/mfa.key, generated. */
    secretKeyFile: z.string().optional(),
    /** Key files that only decrypt (never encrypt): the other key while a rotation goes through several instances. */
    extraKeyFiles: z.array(z.string().min(1)).max(8).default([]),
    /** Issuer name authenticator apps show next to the account. */
    issuer: z.string().min(1).max(64).default('Portcullis'),
  })
  .prefault({});

/** A text in each page language, or one text for all of them. */
const localizedText = z.union([z.string().min(1).max(1000), z.strictObject({ en: z.string().min(1).max(1000), ja: z.string().min(1).max(1000).optional() })]);

/** Pages people see: language and branding. */
export const uiSchema = z
  .strictObject({
    /** Language when neither the switcher's cookie nor Accept-Language picks English or Japanese. */
    defaultLanguage: z.enum(['en', 'ja']).default('en'),
    /** Shown in page titles and the header. */
    productName: z.string().min(1).max(80).default('Portcullis'),
    /** PNG, JPEG, WebP or SVG shown in the header; relative paths are in the config directory. */
    logoFile: z.string().min(1).optional(),
    /**
     * Buttons and links, `#rrggbb`. White text sits on it in both themes, so it must
     * reach WCAG AA (4.5:1) against white; a start with a paler colour is refused.
     */
    primaryColor: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour written #rrggbb')
      .refine((c) => contrastRatio(c, '#ffffff') >= AA_TEXT, {
        error: (issue) => `contrast with white text is ${contrastRatio(String(issue.input), '#ffffff').toFixed(2)}:1; WCAG AA needs ${AA_TEXT}:1, choose a darker colour`,
      })
      .optional(),
    /** A line under every page's form, e.g. who to call; per language or one text for all. */
    helpText: localizedText.optional(),
    /** Link shown next to the help text (https: or mailto:). */
    helpUrl: z.string().regex(/^(https:\/\/|mailto:)\S+$/, 'must be an https: or mailto: URL').optional(),
    /**
     * Acceptable-use notice shown after sign-in, before any ticket; accepted once per
     * account and version (a new version asks everyone again). Paragraphs are separated
     * by blank lines.
     */
    notice: z
      .strictObject({
        version: z.string().min(1).max(64),
        title: localizedText.optional(),
        text: z.union([z.string().min(1).max(20000), z.strictObject({ en: z.string().min(1).max(20000), ja: z.string().min(1).max(20000).optional() })]),
      })
      .optional(),
    /** By registered service name: the name (and logo) the login page shows ("Sign in to …"). */
    services: z.record(z.string(), z.strictObject({ displayName: localizedText, logoFile: z.string().min(1).optional() })).default({}),
  })
  .prefault({});

export const configSchema = z.strictObject({
  server: serverSchema,
  database: databaseSchema,
  argon2: argon2Schema,
  lockout: lockoutSchema,
  password: passwordPolicySchema,
  administrators: administratorsSchema,
  accounts: accountsSchema,
  tickets: ticketsSchema,
  cas: casSchema,
  logging: loggingSchema,
  ops: opsSchema,
  api: apiSchema,
  mfa: mfaSchema,
  ui: uiSchema,
  /** Authentication backends, in the order they are asked (internal is always available). */
  authentication: z
    .strictObject({ backends: backendsSchema })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type LockoutPolicyConfig = Config['lockout'];
export type PasswordPolicyConfig = Config['password'];
export type Argon2Config = Config['argon2'];

/** The settings operators may change without a restart (private.config and SIGHUP). */
export interface LivePolicy {
  lockout: LockoutPolicyConfig;
  password: PasswordPolicyConfig;
  administrators: Config['administrators'];
  accounts: Config['accounts'];
}
