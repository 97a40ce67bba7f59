import { z } from 'zod';
import { MAX_PASSWORD_BYTES } from '../accounts/account-service';
import { MAX_USERNAME_LENGTH } from '../shared/username';

/**
 * Every request and response shape of /api/v1, as zod schemas. Requests are
 * validated with these (objects are strict: unknown fields are rejected) and
 * the OpenAPI document is generated from the very same objects.
 */

// ---------- building blocks ----------

const isoTime = z.iso.datetime({ offset: true }).meta({ description: 'RFC 3339 date-time (UTC).' });
const nullableIsoTime = isoTime.nullable();

/** Query-string integers arrive as text: digits only, then range-checked. */
function intParam(min: number, max: number, description: string) {
  return z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .meta({ description });
}

const booleanParam = (description: string) =>
  z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .meta({ description });

const pageParams = {
  offset: intParam(0, 1_000_000_000, 'Items to skip (default 0).').optional(),
  limit: intParam(1, 500, 'Items per page, 1-500 (default 50).').optional(),
};

const password = z.string().min(1).max(MAX_PASSWORD_BYTES).meta({ format: 'password' });

/**
 * Where the text rule of route-kit (no control characters, well-formed
 * Unicode, in every string of every body and query) bends, by field name:
 * secrets are only hashed or compared, never stored or shown (the password
 * policy refuses control characters in new ones); descriptions may hold line
 * breaks and tabs.
 */
export const TEXT_RULE_FIELDS = {
  secret: new Set(['password', 'currentPassword', 'newPassword']),
  multiline: new Set(['description']),
};
const username = z.string().min(1).max(MAX_USERNAME_LENGTH);
const role = z.enum(['user', 'admin']);
const displayName = z.string().max(256).nullable();
const email = z.email().max(320).nullable();
const description = z.string().max(4096).nullable();

export function pageOf<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      items: z.array(item),
      total: z.number().int().meta({ description: 'Items matching the filters, over all pages.' }),
      offset: z.number().int(),
      limit: z.number().int(),
    })
    .meta({ id });
}

export const problemSchema = z
  .object({
    type: z.string().meta({ description: 'Stable URI naming the kind of problem, e.g. https://portcullis.dev/problems/administrator-limit.' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().meta({ description: 'Human-readable explanation of this occurrence.' }),
    rules: z.array(z.string()).optional().meta({ description: 'For password-policy problems: the names of the broken rules (e.g. min_strength, breached).' }),
    errors: z
      .array(
        z.object({
          field: z.string().optional(),
          rule: z.string(),
          message: z.string(),
          feedback: z
            .object({ score: z.number().int(), warning: z.string().nullable(), suggestions: z.array(z.string()) })
            .optional()
            .meta({ description: 'min_strength only: the zxcvbn score and its own warning and suggestions.' }),
        }),
      )
      .optional()
      .meta({ description: 'For validation problems: each offending field and the rule it broke.' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json).' });

// ---------- path parameters ----------

/** Ids are 32-bit on PostgreSQL (`increments`); a larger one names nothing, on every store. */
const MAX_ID = 2_147_483_647;

/** Path ids: anything but a positive integer in the id range cannot name a record, so it is a 404, not a 422. */
function idParam(description: string) {
  return z.string().regex(/^[1-9]\d{0,9}$/).transform(Number).pipe(z.number().max(MAX_ID)).meta({ description: `${description} (1 to ${MAX_ID})` });
}

export const accountIdParams = z.strictObject({ id: idParam('Account id.') });

/** An account named by its username (the /accounts/by-name/{username} twins of the /accounts/{id} calls). */
export const accountNameParams = z.strictObject({
  username: username.meta({ description: 'Username (compared ignoring case, as at sign-in).' }),
});

export const tokenIdParams = z.strictObject({
  id: z.string().regex(/^tok_[A-Za-z0-9]{16,28}$/).meta({ description: 'Token id (tok_...), not the token itself.' }),
});

// ---------- tokens ----------

export const tokenRequestSchema = z
  .strictObject({
    username: username.optional(),
    password: password.optional(),
    ticketGrantingTicket: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .meta({ description: 'A live CAS ticket-granting ticket (TGT-..., from POST /cas/v1/tickets or the TGC cookie) instead of username and password.' }),
    otp: z
      .string()
      .min(1)
      .max(32)
      .optional()
      .meta({ description: 'Second-factor code (authenticator app or recovery code) for an account that has one; the X-Portcullis-OTP header works too.' }),
  })
  .superRefine((body, ctx) => {
    const credentials = body.username !== undefined || body.password !== undefined;
    if (body.ticketGrantingTicket !== undefined && credentials) {
      ctx.addIssue({ code: 'custom', path: ['ticketGrantingTicket'], message: 'give either username and password, or ticketGrantingTicket, not both' });
    } else if (body.ticketGrantingTicket === undefined) {
      if (body.username === undefined) ctx.addIssue({ code: 'custom', path: ['username'], message: 'username is required (or give ticketGrantingTicket)' });
      if (body.password === undefined) ctx.addIssue({ code: 'custom', path: ['password'], message: 'password is required (or give ticketGrantingTicket)' });
    }
  })
  .meta({
    id: 'TokenRequest',
    description:
      'Either username and password (checked exactly like the login page: lockout, disabled accounts, password expiry), or ticketGrantingTicket.',
  });

export const tokenScope = z.enum(['full', 'password_change']).meta({
  description: '"password_change": the password must be changed first; the token may only call GET /me, POST /me/password and DELETE /tokens/current.',
});

export const issuedTokenSchema = z
  .object({
    token: z.string().meta({ description: 'The bearer token. Shown only here; Portcullis stores only its SHA-256.' }),
    tokenType: z.literal('Bearer'),
    id: z.string().meta({ description: 'Public handle, for listing and revocation.' }),
    scope: tokenScope,
    expiresAt: isoTime,
    passwordChange: z.enum(['initial', 'expired']).optional().meta({ description: 'Why the password must be changed (only with scope password_change).' }),
    account: z.object({ id: z.number().int(), username: z.string(), role }),
  })
  .meta({ id: 'IssuedToken' });

export const tokenInfoSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    scope: tokenScope,
    clientIp: z.string().nullable(),
    createdAt: isoTime,
    expiresAt: isoTime,
  })
  .meta({ id: 'TokenInfo' });

export const tokenListQuery = z.strictObject({ username: username.optional(), ...pageParams });

// ---------- accounts ----------

export const lockoutStateSchema = z
  .object({
    failureCount: z.number().int().meta({ description: 'Consecutive failed sign-ins counting towards MaxAllowedLoginFailureCount.' }),
    locked: z.boolean(),
    lockedUntil: nullableIsoTime,
  })
  .meta({ id: 'LockoutState' });

export const accountSchema = z
  .object({
    id: z.number().int(),
    username: z.string(),
    displayName: z.string().nullable(),
    email: z.string().nullable(),
    description: z.string().nullable(),
    role,
    enabled: z.boolean(),
    source: z.string().meta({ description: '"internal" or the directory backend that vouches for the account.' }),
    hasPassword: z.boolean(),
    legacyPasswordHash: z.boolean().meta({ description: 'The stored hash is an imported NEC CAS MD5 hash (re-hashed at the next sign-in).' }),
    mustChangePassword: z.boolean(),
    passwordChangedAt: nullableIsoTime,
    passwordExpiresAt: nullableIsoTime.meta({ description: 'When the password max age runs out (null when passwords do not expire).' }),
    lastLoginAt: nullableIsoTime,
    createdAt: isoTime,
    updatedAt: isoTime,
    version: z.number().int().meta({ description: 'Also the ETag; send it back in If-Match when updating.' }),
    lockout: lockoutStateSchema,
  })
  .meta({ id: 'Account' });

export const accountListSchema = pageOf(accountSchema, 'AccountPage');

export const accountListQuery = z.strictObject({
  role: role.optional(),
  source: z.string().min(1).max(32).optional().meta({ description: '"internal" or a backend name.' }),
  state: z.enum(['enabled', 'disabled']).optional(),
  locked: booleanParam('true: only accounts locked now; false: only accounts not locked.').optional(),
  search: z.string().min(1).max(MAX_USERNAME_LENGTH).optional().meta({ description: 'Substring of the username (case-insensitive).' }),
  ...pageParams,
});

export const accountCreateSchema = z
  .strictObject({
    username,
    password: password.optional().meta({ description: 'Initial password (checked against the password policy). Omit to create an account that cannot sign in yet.' }),
    role: role.optional(),
    displayName: displayName.optional(),
    email: email.optional(),
    description: description.optional(),
    enabled: z.boolean().optional(),
    mustChangePassword: z.boolean().optional(),
  })
  .meta({ id: 'AccountCreate' });

export const accountUpdateSchema = z
  .strictObject({
    displayName: displayName.optional(),
    email: email.optional(),
    description: description.optional(),
    role: role.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((changes) => Object.keys(changes).length > 0, { message: 'name at least one field to change' })
  .meta({ id: 'AccountUpdate', minProperties: 1 });

export const passwordResetSchema = z
  .strictObject({
    password,
    mustChangePassword: z.boolean().default(true).meta({ description: 'Force a change at the next sign-in (default true).' }),
  })
  .meta({ id: 'PasswordReset' });

// ---------- me ----------

export const meSchema = accountSchema
  .pick({
    id: true,
    username: true,
    displayName: true,
    email: true,
    role: true,
    source: true,
    mustChangePassword: true,
    passwordChangedAt: true,
    passwordExpiresAt: true,
    lastLoginAt: true,
  })
  .extend({ tokenScope, tokenExpiresAt: isoTime })
  .meta({ id: 'Me' });

export const passwordChangeSchema = z
  .strictObject({
    currentPassword: password,
    newPassword: password,
  })
  .meta({ id: 'PasswordChange' });

// ---------- audit ----------

export const auditQuery = z.strictObject({
  username: username.optional().meta({ description: 'Exact username the event is about.' }),
  event: z.string().min(1).max(64).optional().meta({ description: 'Event type, e.g. login, account_locked, token_issued.' }),
  from: isoTime.optional().meta({ description: 'Events at or after this time.' }),
  to: isoTime.optional().meta({ description: 'Events before this time.' }),
  ...pageParams,
});

export const auditEventSchema = z
  .object({
    id: z.number().int(),
    at: isoTime,
    event: z.string(),
    outcome: z.enum(['success', 'failure', 'info']),
    username: z.string().nullable(),
    actor: z.string().nullable().meta({ description: 'Who made the change (an administrator, "cli" or "system").' }),
    backend: z.string().nullable(),
    clientIp: z.string().nullable(),
    userAgent: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AuditEvent' });

export const auditPageSchema = pageOf(auditEventSchema, 'AuditPage');

// ---------- policy and stats ----------

const policyValue = z.object({
  value: z.unknown(),
  source: z.string().meta({ description: 'The file (or "environment") that set the value, or "default".' }),
});

export const policySchema = z
  .object({
    lockout: z.record(z.string(), policyValue),
    password: z.record(z.string(), policyValue),
    administrators: z.record(z.string(), policyValue),
    accounts: z.record(z.string(), policyValue),
    breachedFilter: z
      .object({
        file: z.string(),
        source: z.string(),
        createdAt: z.string(),
        entries: z.number().int(),
        fpRate: z.number(),
        sizeBytes: z.number().int(),
        bitsPerEntry: z.number(),
      })
      .nullable()
      .meta({ description: 'The breached-password filter in force (null: none imported); reloaded on SIGHUP.' }),
  })
  .meta({ id: 'Policy', description: 'The policy in force now. Change it in the config files (reloaded without a restart), not here.' });

export const versionSchema = z
  .object({
    version: z.string().meta({ description: 'The Portcullis release (package.json version).' }),
    node: z.string().meta({ description: 'The Node.js version running it.' }),
  })
  .meta({ id: 'Version' });

export const statsSchema = z
  .object({
    accounts: z.object({
      total: z.number().int(),
      administrators: z.number().int(),
      enabled: z.number().int(),
      disabled: z.number().int(),
      lockedNow: z.number().int(),
      mustChangePassword: z.number().int(),
    }),
    legacyMd5Hashes: z.number().int().meta({ description: 'Accounts still holding an imported NEC CAS MD5 hash (upgraded to Argon2id at each first sign-in).' }),
    activeTokens: z.number().int(),
    maxAdministratorCount: z.number().int(),
  })
  .meta({ id: 'Stats' });

// ---------- CAS services ----------

const serviceFields = {
  name: z.string().min(1).max(128).meta({ description: 'Unique name (the CLI addresses services by it).' }),
  description: z.string().max(2000).nullable(),
  serviceUrl: z.string().min(1).max(4096).meta({ description: 'Exact https URL, or a pattern with * (see the service registry documentation).' }),
  evaluationOrder: z.number().int().min(-1_000_000).max(1_000_000).meta({ description: 'Patterns are tried in ascending order; exact URLs always win.' }),
  enabled: z.boolean(),
  proxyCallback: z.string().max(4096).nullable().meta({ description: 'Pattern the pgtUrl must match; null: no proxy-granting tickets.' }),
  acceptsProxyTickets: z.boolean(),
  releasedAttributes: z.array(z.string().min(1).max(128)).max(100),
  logoutType: z.enum(['back_channel', 'none']),
  logoutUrl: z.string().max(4096).nullable(),
  mfa: z.enum(['required', 'optional']).meta({ description: 'required: tickets for this service need a session with a second factor (users step up at login; validation of a ticket without one fails with INVALID_AUTHENTICATION_CONTEXT). Default optional.' }),
};

export const serviceSchema = z
  .object({ id: z.number().int(), ...serviceFields, createdAt: isoTime, updatedAt: isoTime, version: z.number().int().meta({ description: 'Also the ETag.' }) })
  .meta({ id: 'Service' });

export const serviceWithWarningsSchema = serviceSchema
  .extend({ warnings: z.array(z.string()).optional().meta({ description: 'Present when the request was accepted with allowHttp: what is unsafe about it.' }) })
  .meta({ id: 'ServiceWithWarnings' });

export const servicePageSchema = pageOf(serviceSchema, 'ServicePage');

export const serviceListQuery = z.strictObject({
  enabled: booleanParam('Only enabled (true) or disabled (false) services.').optional(),
  ...pageParams,
});

export const serviceCreateSchema = z
  .strictObject({
    name: serviceFields.name,
    serviceUrl: serviceFields.serviceUrl,
    description: serviceFields.description.optional(),
    evaluationOrder: serviceFields.evaluationOrder.optional(),
    enabled: serviceFields.enabled.optional(),
    proxyCallback: serviceFields.proxyCallback.optional(),
    acceptsProxyTickets: serviceFields.acceptsProxyTickets.optional(),
    releasedAttributes: serviceFields.releasedAttributes.optional(),
    logoutType: serviceFields.logoutType.optional(),
    logoutUrl: serviceFields.logoutUrl.optional(),
    mfa: serviceFields.mfa.optional(),
    allowHttp: z.boolean().optional().meta({ description: 'Accept plain http:// serviceUrl / logoutUrl (tickets then cross the network in clear); refused without it. The answer then carries `warnings`.' }),
  })
  .meta({ id: 'ServiceCreate' });

export const serviceUpdateSchema = serviceCreateSchema
  .partial()
  .refine((changes) => Object.keys(changes).length > 0, { message: 'name at least one field to change' })
  .meta({ id: 'ServiceUpdate', minProperties: 1 });

export const serviceIdParams = z.strictObject({ id: idParam('Service id.') });

// ---------- second factors ----------

export const factorSchema = z
  .object({
    id: z.number().int(),
    type: z.string().meta({ description: 'totp (an authenticator app); other kinds as they are added.' }),
    name: z.string(),
    createdAt: isoTime,
    lastUsedAt: nullableIsoTime,
  })
  .meta({ id: 'Factor', description: 'A second factor; never its secret.' });

export const factorListSchema = z
  .object({
    items: z.array(factorSchema),
    recoveryCodesLeft: z.number().int().meta({ description: 'Unused single-use recovery codes.' }),
    needsReview: z.boolean().meta({ description: 'A recovery code was used since the factors were last reset: check them.' }),
  })
  .meta({ id: 'FactorList' });

export const factorResetSchema = z.object({ removed: z.number().int().meta({ description: 'Factors and recovery codes removed.' }) }).meta({ id: 'FactorReset' });

export const accountFactorParams = z.strictObject({ id: idParam('Account id.'), factorId: idParam('Factor id.') });
export const myFactorParams = z.strictObject({ factorId: idParam('Factor id.') });

const totpCodeField = z.string().min(1).max(32).meta({ description: 'A current code from the authenticator app (or a recovery code where stated).' });

export const totpEnrolmentSchema = z
  .object({
    secret: z.string().meta({ description: 'The TOTP secret (base32), to type into the app by hand.' }),
    otpauthUri: z.string().meta({ description: 'otpauth:// URI (what the QR code holds).' }),
    qrSvg: z.string().meta({ description: 'The QR code as an SVG document.' }),
    enrolment: z.string().meta({ description: 'Send back to POST /me/factors/confirm with a code; valid 10 minutes.' }),
  })
  .meta({ id: 'TotpEnrolment' });

export const factorBeginSchema = z
  .strictObject({ type: z.literal('totp').optional().meta({ description: 'The kind of factor to enrol (totp, the default).' }) })
  .meta({ id: 'FactorBegin' });

export const factorConfirmSchema = z
  .strictObject({ enrolment: z.string().min(1).max(4096), code: totpCodeField, name: z.string().max(64).optional().meta({ description: 'A name for it (default "Authenticator app").' }) })
  .meta({ id: 'FactorConfirm' });

export const factorEnrolledSchema = z
  .object({ factor: factorSchema, recoveryCodes: z.array(z.string()).meta({ description: 'Shown once: ten single-use codes with the first factor, none after.' }) })
  .meta({ id: 'FactorEnrolled' });
