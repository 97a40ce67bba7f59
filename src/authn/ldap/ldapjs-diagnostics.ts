/**
 * ldapjs 3.0.7 drops the server's diagnostic message from result errors: its
 * errors.getError() reads `res.errorMessage`, a field @ldapjs/messages renamed
 * to `diagnosticMessage`. Active Directory puts the account state in that
 * text ("80090308: LdapErr: ... data 533, v1db1"), so without it a disabled
 * account looks like a wrong password. This wraps getError (looked up by the
 * client at call time) to keep the diagnostic message as the error message.
 * Applied once, on import; harmless if a later ldapjs fixes the field name.
 */

interface LdapResultLike {
  status: number;
  errorMessage?: string;
  diagnosticMessage?: string;
}

interface LdapErrorsModule {
  getError: ((res: LdapResultLike) => Error) & { keepsDiagnostics?: true };
}

// The errors module is internal to ldapjs (no typings); the shape used is declared above.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const errors = require('ldapjs/lib/errors') as LdapErrorsModule;

if (!errors.getError.keepsDiagnostics) {
  const original = errors.getError;
  const patched = (res: LdapResultLike): Error => {
    const error = original(res);
    if (!res.errorMessage && res.diagnosticMessage) error.message = res.diagnosticMessage;
    return error;
  };
  errors.getError = Object.assign(patched, { keepsDiagnostics: true as const });
}

export {};
