import type { LoginResult } from '../authn/login-service';
import { type RefusalEntry, SECOND_FACTOR_REFUSALS, refusalOf } from '../authn/refusals';
import type { FactorKind } from '../storage/mfa-store';
import type { MfaService, Who } from './mfa-service';
import { looksLikeRecoveryCode } from './recovery-codes';

type Success = Extract<LoginResult, { status: 'success' }>;

/**
 * The second factor on ways in that take the code together with the password
 * (REST tickets, API tokens). Asked only after the password was right, so a
 * "code required" answer tells nothing to someone who does not know it.
 * Returns the session's authentication methods, or the refusal to send.
 */
export async function secondFactorWithPassword(mfa: MfaService, result: Success, code: string | undefined, who: Who): Promise<{ methods: string[] } | { refusal: RefusalEntry }> {
  const enrolled = result.factors;
  if (!mfa.secondFactorNeeded({ account: { role: result.account.role, enrolled }, requested: false, sessionMethods: [] })) return { methods: ['password'] };
  if (enrolled.length === 0) return refuse('enrolmentRequired');
  const given = code?.trim() ?? '';
  // A security key needs a browser: with no app to read a code from, only a recovery code can stand in for it here.
  if (keyOnly(enrolled) && !(enrolled.includes('recovery') && looksLikeRecoveryCode(given))) return refuse('securityKeyOnly');
  if (given === '') return refuse('required');
  const verdict = await mfa.verify(result.account, given, who);
  if (verdict.status === 'verified') return { methods: ['password', verdict.factor] };
  if (verdict.status === 'locked') return { refusal: refusalOf(verdict) };
  return refuse('invalidCode');
}

/** The account's second factor is a security key, with no authenticator app to read a code from. */
function keyOnly(enrolled: readonly FactorKind[]): boolean {
  return enrolled.includes('webauthn') && !enrolled.includes('totp');
}

function refuse(name: keyof typeof SECOND_FACTOR_REFUSALS): { refusal: RefusalEntry } {
  return { refusal: { ...SECOND_FACTOR_REFUSALS[name], extensions: {} } };
}
