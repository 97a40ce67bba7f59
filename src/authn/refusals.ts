import type { FailureReason } from './backend';
import type { LoginResult } from './login-service';

/**
 * The refusal table: how every refused login reads, whichever way it came in.
 * The login page (HTML), REST tickets (text), the API (problem+json) and
 * SPNEGO choose only the format; status, code and message are decided here.
 * Wrong password and unknown user share one entry on purpose, and a locked
 * name gets the same answer whatever password it sent.
 */
export type LoginRefusal = Exclude<LoginResult, { status: 'success' }>;

export interface RefusalEntry {
  status: number;
  /** Stable machine-readable code (problem+json type, message-catalogue key). */
  code: string;
  message: string;
  /** Extra members for machine-readable formats (problem+json). */
  extensions: Record<string, unknown>;
}

type AccountState = Exclude<FailureReason, 'bad_credentials' | 'unknown_user'>;

const ACCOUNT_STATE_MESSAGES: Record<AccountState, string> = {
  account_expired: 'This account has expired. Contact your administrator.',
  account_disabled: 'This account is disabled in the directory. Contact your administrator.',
  password_expired: "Your directory password has expired. Change it with your organisation's tools, then sign in again.",
  password_must_change: "Your directory requires you to change your password. Change it with your organisation's tools, then sign in again.",
};

export function refusalOf(result: LoginRefusal): RefusalEntry {
  switch (result.status) {
    case 'invalid':
      return { status: 401, code: 'invalid_credentials', message: 'Invalid username or password.', extensions: {} };
    case 'locked':
      return {
        status: 423,
        code: 'account_locked',
        message: 'This account is temporarily locked because of too many failed sign-in attempts. Try again later.',
        extensions: { lockedUntil: new Date(result.lockedUntil).toISOString() },
      };
    case 'disabled':
      return { status: 403, code: 'account_disabled', message: 'This account is disabled. Contact your administrator.', extensions: {} };
    case 'account_state':
      return { status: 403, code: 'account_state', message: ACCOUNT_STATE_MESSAGES[result.reason], extensions: { reason: result.reason } };
    case 'unavailable':
      return {
        status: 503,
        code: 'unavailable',
        message: `Sign-in is unavailable: ${result.reason}. Nobody can sign in until this is fixed; please try again later.`,
        extensions: { dependency: result.dependency, reason: result.reason },
      };
  }
}

/** A right password whose account must choose a new one first, on a way in that cannot offer the change (REST, API). */
export const PASSWORD_CHANGE_DUE: Omit<RefusalEntry, 'extensions'> = {
  status: 403,
  code: 'password_change_required',
  message: 'The password must be changed before this account can be used: sign in on the login page (/cas/login) and choose a new password first.',
};

/** Second-factor refusals on ways in that take the code with the password (REST tickets, API tokens). */
export const SECOND_FACTOR_REFUSALS = {
  required: {
    status: 401,
    code: 'mfa_required',
    message: 'This account signs in with a second factor: send the code from the authenticator app (or a recovery code) as "otp" (REST) or in the X-Portcullis-OTP header (API).',
  },
  enrolmentRequired: {
    status: 401,
    code: 'mfa_required',
    message: 'This account must use a second factor but has none yet: sign in once on the login page (/cas/login) to set one up.',
  },
  invalidCode: { status: 401, code: 'invalid_otp', message: 'The second-factor code is not correct. Codes change every 30 seconds; each works once.' },
  /** A key's ceremony needs a browser, which these ways in do not have. */
  securityKeyOnly: {
    status: 403,
    code: 'mfa_security_key_only',
    message:
      "This account's second factor is a security key, which REST tickets and API tokens cannot use (a key needs a browser). Sign in on the login page (/cas/login), add an authenticator app there, or send one of the account's recovery codes as \"otp\" (REST) or in the X-Portcullis-OTP header (API).",
  },
} as const satisfies Record<string, Omit<RefusalEntry, 'extensions'>>;
