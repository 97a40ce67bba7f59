import { HttpError } from '../shared/errors';

/**
 * The administration API's own refusals, one entry per stable problem `type`
 * (https://portcullis.dev/problems/<code with dashes>). Refusals that come
 * from the core (administrator limit, password policy, not found...) keep the
 * codes classify() gives them; this catalogue lists only what the API adds.
 */
export const API_ERRORS = {
  UNAUTHENTICATED: { status: 401, code: 'unauthenticated', message: 'This call needs a bearer token (Authorization: Bearer ...); get one from POST /api/v1/tokens.' },
  INVALID_TOKEN: { status: 401, code: 'invalid_token', message: 'The bearer token is unknown, expired, revoked, or its account is disabled.' },
  INVALID_CREDENTIALS: { status: 401, code: 'invalid_credentials', message: 'Invalid username or password.' },
  FORBIDDEN: { status: 403, code: 'forbidden', message: 'Only administrators may call this.' },
  PASSWORD_CHANGE_REQUIRED: {
    status: 403,
    code: 'password_change_required',
    message: 'The password must be changed first (POST /api/v1/me/password); this token allows nothing else.',
  },
  ACCOUNT_DISABLED: { status: 403, code: 'account_disabled', message: 'This account is disabled.' },
  ACCOUNT_STATE: { status: 403, code: 'account_state', message: 'The directory refused this account.' },
  CURRENT_PASSWORD_INCORRECT: { status: 403, code: 'current_password_incorrect', message: 'The current password is not correct.' },
  CURRENT_CODE_REQUIRED: { status: 401, code: 'mfa_required', message: 'Removing a factor needs a current code (X-Portcullis-OTP header) from one of your factors, or a recovery code.' },
  CURRENT_CODE_INCORRECT: { status: 403, code: 'invalid_otp', message: 'The second-factor code is not correct. Codes change every 30 seconds; each works once.' },
  ENROLMENT_INVALID: { status: 422, code: 'enrolment_invalid', message: 'The enrolment has expired or belongs to another account; start again with POST /me/factors.' },
  ENROLMENT_CODE_INCORRECT: { status: 422, code: 'invalid_otp', message: 'That code does not match the new secret. Check the time on the device and send the newest code.' },
  ACCOUNT_LOCKED: { status: 423, code: 'account_locked', message: 'This account is temporarily locked because of too many failed sign-in attempts.' },
  PRECONDITION_FAILED: { status: 412, code: 'precondition_failed', message: 'The account was changed since you read it (If-Match does not match its ETag); reload it and try again.' },
  PRECONDITION_REQUIRED: { status: 428, code: 'precondition_required', message: 'Updates need an If-Match header with the ETag from GET (or "*" to overwrite deliberately).' },
  METHOD_NOT_ALLOWED: { status: 405, code: 'method_not_allowed', message: 'This address does not take that method.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'The request body must be application/json.' },
  VALIDATION_FAILED: { status: 422, code: 'validation_failed', message: 'The request is not valid.' },
  NO_CHANGES: { status: 422, code: 'validation_failed', message: 'The request body names no field to change.' },
} as const satisfies Record<string, { status: number; code: string; message: string }>;

export type ApiErrorName = keyof typeof API_ERRORS;

/** An HttpError from the catalogue; `detail` replaces the default message when the caller knows more. */
export function apiError(
  name: ApiErrorName,
  detail?: string,
  fields: { field?: string; rule: string; message: string }[] = [],
  extensions: Record<string, unknown> = {},
): HttpError {
  const entry = API_ERRORS[name];
  return new HttpError(entry.status, entry.code, detail ?? entry.message, fields, extensions);
}
