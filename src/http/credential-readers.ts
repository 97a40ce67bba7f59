import type { Request } from 'express';
import { assertPasswordSize } from '../accounts/account-service';
import type { PasswordCredential } from '../authn/backend';
import { InputError } from '../shared/errors';
import { MAX_USERNAME_LENGTH } from '../shared/username';
import { formParams } from './params';

/** Reads one way in's username and password from the request; throws InputError (with that door's words) for bad input. */
export type CredentialReader = (req: Request) => PasswordCredential;

/**
 * The login form's fields. The form door refuses missing fields (with its
 * page) before it asks; over-long names and control characters are refused
 * (and audited) by the login service.
 */
export function readFormCredential(req: Request): PasswordCredential {
  const form = formParams(req);
  return { username: form.get('username')?.trim() ?? '', password: form.get('password') ?? '' };
}

/** The form body of `POST /cas/v1/tickets` (and a renewing service-ticket request): checked here, in REST's words. */
export function readRestCredential(req: Request): PasswordCredential {
  const form = formParams(req);
  const username = form.get('username')?.trim() ?? '';
  const password = form.get('password') ?? '';
  if (username.length === 0 || password.length === 0) throw new InputError("'username' and 'password' are both required.");
  if (username.length > MAX_USERNAME_LENGTH) throw new InputError(`The username is longer than ${MAX_USERNAME_LENGTH} characters.`);
  assertPasswordSize(password);
  // eslint-disable-next-line no-control-regex -- a control character is never part of a valid name
  if (/[\u0000-\u001f\u007f]/.test(username)) throw new InputError('The username contains control characters.');
  return { username, password };
}

/** The JSON body of `POST /api/v1/tokens`, which route-kit has already checked against its schema. */
export function readApiTokenCredential(req: Request): PasswordCredential {
  const body = req.body as { username?: unknown; password?: unknown } | undefined;
  return { username: typeof body?.username === 'string' ? body.username : '', password: typeof body?.password === 'string' ? body.password : '' };
}
