import type { FactorInfo, MfaService, Who } from '../../mfa/mfa-service';
import { NotFoundError } from '../../shared/errors';
import type { Account } from '../../accounts/account';
import { isoOrNull, isoTime } from '../account-views';
import { apiError } from '../error-codes';
import type { Caller } from '../guard';
import { type ApiRoute, defineRoute } from '../route-kit';
import {
  accountFactorParams,
  accountIdParams,
  factorBeginSchema,
  factorConfirmSchema,
  factorEnrolledSchema,
  factorListSchema,
  factorResetSchema,
  myFactorParams,
  totpEnrolmentSchema,
} from '../schemas';
import { type FactorRouteDeps, requestContext } from './context';
import type { Request } from 'express';

const ENROL_PURPOSE = 'api-totp-enrol';
const ENROL_TTL_MS = 10 * 60 * 1000;
const OTP_HEADER = 'x-portcullis-otp';

function factorView(factor: FactorInfo) {
  return { id: factor.id, type: factor.kind, name: factor.name, createdAt: isoTime(factor.createdAt), lastUsedAt: isoOrNull(factor.lastUsedAt) };
}

/** An account's factors as the API lists them: the factors, and recovery codes only counted (each is a stored row). */
async function factorList(mfa: MfaService, accountId: number) {
  const all = await mfa.list(accountId);
  return {
    items: all.filter((f) => f.kind !== 'recovery').map(factorView),
    recoveryCodesLeft: all.filter((f) => f.kind === 'recovery').length,
    needsReview: await mfa.needsReview(accountId),
  };
}

/** Who acts, for the audit trail: the administrator when it is not the account itself. */
function who(req: Request, caller: Caller, account: Account): Who {
  const context = requestContext(req, 'api');
  return caller.account.id === account.id ? context : { ...context, actor: caller.account.username };
}

/**
 * An account's second factors for administrators: list (never a secret),
 * remove one, reset all. At /accounts/{id}/factors, with by-name twins
 * (src/admin/handlers/accounts.ts).
 */
export function accountFactorRoutes(deps: Pick<FactorRouteDeps, 'accountService' | 'mfa'>): ApiRoute[] {
  const { accountService, mfa } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/accounts/{id}/factors',
      access: 'admin',
      tag: 'accounts',
      summary: "An account's second factors (type, name, created, last used; never a secret)",
      params: accountIdParams,
      responses: { 200: { description: 'The factors.', schema: factorListSchema } },
      async handle({ params }) {
        const account = await accountService.get(params.id);
        return { status: 200, body: await factorList(mfa, account.id) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/accounts/{id}/factors/{factorId}',
      access: 'admin',
      tag: 'accounts',
      summary: 'Remove one second factor of an account (audited with the administrator)',
      description: 'Removing the last factor removes the recovery codes too.',
      params: accountFactorParams,
      responses: { 204: { description: 'Removed.' } },
      async handle({ req, params, caller }) {
        const account = await accountService.get(params.id);
        await mfa.remove(account, params.factorId, who(req, caller, account));
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/accounts/{id}/factors/reset',
      access: 'admin',
      tag: 'accounts',
      summary: 'Remove every second factor and recovery code of an account (audited with the administrator)',
      description: 'For a lost phone: the account enrols again at its next sign-in when a factor is required.',
      params: accountIdParams,
      responses: { 200: { description: 'What was removed.', schema: factorResetSchema } },
      async handle({ req, params, caller }) {
        const account = await accountService.get(params.id);
        return { status: 200, body: { removed: await mfa.reset(account, who(req, caller, account)) } };
      },
    }),
  ];
}

const myFactorsRoute = ({ mfa }: FactorRouteDeps) =>
  defineRoute({
    method: 'get',
    path: '/me/factors',
    access: 'account',
    tag: 'me',
    summary: 'Your second factors',
    responses: { 200: { description: 'Your factors.', schema: factorListSchema } },
    async handle({ caller }) {
      return { status: 200, body: await factorList(mfa, caller.account.id) };
    },
  });

const beginTotpRoute = ({ mfa, signer, clock }: FactorRouteDeps) =>
  defineRoute({
    method: 'post',
    path: '/me/factors',
    access: 'account',
    tag: 'me',
    summary: 'Begin enrolling an authenticator app (TOTP): a new secret, its otpauth URI and QR code',
    description: 'Nothing is stored until POST /me/factors/confirm proves the app was set up with a code.',
    body: factorBeginSchema,
    responses: { 200: { description: 'The secret to set up.', schema: totpEnrolmentSchema } },
    async handle({ caller }) {
      const enrolment = await mfa.beginTotp(caller.account);
      const token = signer.sign(ENROL_PURPOSE, { a: caller.account.id, s: enrolment.secret }, clock.now() + ENROL_TTL_MS);
      return { status: 200, body: { secret: enrolment.secret, otpauthUri: enrolment.uri, qrSvg: enrolment.qrSvg, enrolment: token } };
    },
  });

const confirmTotpRoute = ({ mfa, signer, clock }: FactorRouteDeps) =>
  defineRoute({
    method: 'post',
    path: '/me/factors/confirm',
    access: 'account',
    tag: 'me',
    summary: 'Finish enrolling an authenticator app with a code from it',
    description: 'The first factor of an account comes with ten recovery codes, shown only in this answer.',
    body: factorConfirmSchema,
    responses: { 201: { description: 'Enrolled.', schema: factorEnrolledSchema } },
    async handle({ req, body, caller }) {
      const data = signer.verify(ENROL_PURPOSE, body.enrolment, clock.now());
      if (!data || data.a !== caller.account.id || typeof data.s !== 'string') throw apiError('ENROLMENT_INVALID');
      const confirmed = await mfa.confirmTotp(caller.account, data.s, body.code, body.name ?? '', requestContext(req, 'api'));
      if (!confirmed) throw apiError('ENROLMENT_CODE_INCORRECT');
      const newest = (await mfa.list(caller.account.id)).filter((f) => f.kind === 'totp').at(-1) as FactorInfo;
      return { status: 201, body: { factor: factorView(newest), recoveryCodes: confirmed.recoveryCodes } };
    },
  });

const removeMyFactorRoute = ({ mfa }: FactorRouteDeps) =>
  defineRoute({
    method: 'delete',
    path: '/me/factors/{factorId}',
    access: 'account',
    tag: 'me',
    summary: 'Remove one of your second factors (needs a current code)',
    description:
      'Re-authentication: a current code from one of your factors (or a recovery code) in X-Portcullis-OTP. A wrong code counts towards the lockout, like a wrong password.',
    params: myFactorParams,
    requestHeaders: [{ name: 'X-Portcullis-OTP', required: true, description: 'A current code from one of your factors, or a recovery code.' }],
    responses: { 204: { description: 'Removed.' } },
    errors: [401, 403, 404, 423],
    async handle({ req, params, caller }) {
      if (!(await mfa.list(caller.account.id)).some((f) => f.id === params.factorId)) throw new NotFoundError(`You have no factor ${params.factorId}.`);
      const code = req.get(OTP_HEADER)?.trim();
      if (!code) throw apiError('CURRENT_CODE_REQUIRED');
      const context = requestContext(req, 'api');
      const verdict = await mfa.verify(caller.account, code, context);
      if (verdict.status === 'locked') throw apiError('ACCOUNT_LOCKED', undefined, [], { lockedUntil: isoTime(verdict.lockedUntil) });
      if (verdict.status === 'invalid') throw apiError('CURRENT_CODE_INCORRECT');
      await mfa.remove(caller.account, params.factorId, context);
      return { status: 204 };
    },
  });

/** Your own second factors: list, enrol an authenticator app (begin, then confirm with a code), remove one with a current code. */
export function myFactorRoutes(deps: FactorRouteDeps): ApiRoute[] {
  return [myFactorsRoute(deps), beginTotpRoute(deps), confirmTotpRoute(deps), removeMyFactorRoute(deps)];
}
