import type { Request, Response } from 'express';
import { Passport } from 'passport';
import { Strategy } from 'passport-strategy';
import type { PasswordCredential } from '../authn/backend';
import type { LoginResult, LoginService, RequestContext } from '../authn/login-service';

const PASSWORD_STRATEGY = 'portcullis-password';

interface PasswordLoginOptions {
  session: false;
  credential: PasswordCredential;
  context: RequestContext;
}

/**
 * Passport at the edge: one strategy that hands the credentials each front
 * door parsed to the login service, so lockout, auditing and uniform hash
 * cost stay in one code path for every backend. The strategy's "user" is the
 * whole LoginResult; failures carry the result as the challenge.
 */
class PasswordLoginStrategy extends Strategy {
  name = PASSWORD_STRATEGY;

  constructor(private readonly loginService: LoginService) {
    super();
  }

  override authenticate(_req: Request, options?: PasswordLoginOptions): void {
    if (!options) {
      this.error(new Error(`${PASSWORD_STRATEGY} needs credentials in its options`));
      return;
    }
    this.loginService.login(options.credential, options.context).then(
      (result) => (result.status === 'success' ? this.success(result) : this.fail(result, 401)),
      (error: unknown) => this.error(error as Error),
    );
  }
}

export type PasswordAuthenticator = (req: Request, res: Response, credential: PasswordCredential, context: RequestContext) => Promise<LoginResult>;

/** A passport instance with the password strategy, wrapped as a promise-returning call. */
export function createPasswordAuthenticator(loginService: LoginService): PasswordAuthenticator {
  const passport = new Passport();
  passport.use(new PasswordLoginStrategy(loginService));
  return (req, res, credential, context) =>
    new Promise<LoginResult>((resolve, reject) => {
      const options: PasswordLoginOptions = { session: false, credential, context };
      const middleware = passport.authenticate(PASSWORD_STRATEGY, options, (error: unknown, user: LoginResult | false, info: LoginResult) =>
        error ? reject(error) : resolve(user || info),
      ) as (req: Request, res: Response, next: (error?: unknown) => void) => void;
      middleware(req, res, reject);
    });
}
