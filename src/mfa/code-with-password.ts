import type { LoginResult } from '../authn/login-service';
import { type RefusalEntry, SECOND_FACTOR_REFUSALS, refusalOf } from '../authn/refusals';
import type { MfaService, Who } from './mfa-service';

type Success = Extract<LoginResult, { status: 'success' }>;

/**
 * The second factor on ways in that take the code together with the password
 * (REST tickets, API tokens). Asked only after the password was right, so a
 * "code required" answer tells nothing to someone who does not know it.
 * Returns the session's authentication methods, or the refusal to send.
 */
export async function secondFactorWithPassword(mfa: MfaService, result: Success, code: string | undefined, who: Who): Promise<{ methods: string[] } | { refusal: RefusalEntry }> {
  if (!mfa.secondFactorNeeded({ account: { role: result.account.role, enrolled: result.factors }, requested: false, sessionMethods: [] })) return { methods: ['password'] };
  if (result.factors.length === 0) return { refusal: { ...SECOND_FACTOR_REFUSALS.enrolmentRequired, extensions: {} } };
  if (code === undefined || code.trim() === '') return { refusal: { ...SECOND_FACTOR_REFUSALS.required, extensions: {} } };
  const verdict = await mfa.verify(result.account, code, who);
  if (verdict.status === 'verified') return { methods: ['password', verdict.factor] };
  if (verdict.status === 'locked') return { refusal: refusalOf(verdict) };
  return { refusal: { ...SECOND_FACTOR_REFUSALS.invalidCode, extensions: {} } };
}
