import type { Request, Response } from 'express';
import { Passport } from 'passport';
import { Strategy } from 'passport-strategy';
import type { LoginResult, LoginService } from '../authn/login-service';
import { refusalOf } from '../authn/refusals';
import { NegotiateAuthenticator, type NegotiateOutcome } from '../authn/windows/spnego';
import { requestContext } from './request-context';
import { type CredentialReader, readApiTokenCredential, readFormCredential, readRestCredential } from './credential-readers';

/** No Negotiate header yet: the door answers 401 with this challenge (and the login form for browsers that cannot negotiate). */
export type NegotiateChallenge = { kind: 'challenge'; challenge: string };

/** What each way in yields: a password login's result, or integrated sign-in's outcome. */
export interface EdgeOutcomes {
  form: LoginResult;
  rest: LoginResult;
  api_token: LoginResult;
  negotiate: NegotiateOutcome | NegotiateChallenge;
}
export type EdgeStrategy = keyof EdgeOutcomes;

/** What the strategies need: the login path (which holds the regulator) and the SPNEGO acceptor. */
type PasswordLogin = Pick<LoginService, 'login'>;
type Negotiate = Pick<NegotiateAuthenticator, 'challenge' | 'authenticate'>;

/** Runs one way in's passport strategy on the request; the front door only formats the outcome. */
export type EdgeAuthenticator = <S extends EdgeStrategy>(strategy: S, req: Request, res: Response) => Promise<EdgeOutcomes[S]>;

/**
 * A password way in: the strategy reads the credential from the request
 * itself (form body, REST form body, API JSON body), builds the request
 * context and asks the login service, which claims the lockout place before
 * any secret is checked. Success is passport's user; a refusal is its
 * challenge, with the refusal table's status. Bad input is an error
 * (InputError), rendered by the door's error handler as before.
 */
class PasswordStrategy extends Strategy {
  constructor(
    readonly name: Exclude<EdgeStrategy, 'negotiate'>,
    private readonly channel: string,
    private readonly read: CredentialReader,
    private readonly loginService: PasswordLogin,
  ) {
    super();
  }

  override authenticate(req: Request): void {
    let credential;
    try {
      credential = this.read(req);
    } catch (error) {
      this.error(error as Error);
      return;
    }
    this.loginService.login(credential, requestContext(req, this.channel)).then(
      (result) => (result.status === 'success' ? this.success(result) : this.fail(result, refusalOf(result).status)),
      (error: unknown) => this.error(error as Error),
    );
  }
}

/** Integrated Windows sign-in: reads `Authorization: Negotiate <token>` and hands it to the negotiate authenticator. */
class NegotiateStrategy extends Strategy {
  readonly name = 'negotiate';

  constructor(private readonly negotiate: Negotiate) {
    super();
  }

  override authenticate(req: Request): void {
    const authorization = req.get('authorization');
    if (!NegotiateAuthenticator.isNegotiate(authorization)) {
      this.fail({ kind: 'challenge', challenge: this.negotiate.challenge } satisfies NegotiateChallenge, 401);
      return;
    }
    this.negotiate.authenticate(authorization, requestContext(req, 'spnego')).then(
      (outcome) => {
        if (outcome.kind === 'refused') this.fail(outcome, outcome.status);
        else if (outcome.result.status === 'success') this.success(outcome);
        else this.fail(outcome, refusalOf(outcome.result).status);
      },
      (error: unknown) => this.error(error as Error),
    );
  }
}

/** The passport instance of the edge: one strategy per way in (negotiate only when a windows backend enables SPNEGO). */
export function edgePassport(loginService: PasswordLogin, negotiate?: Negotiate): InstanceType<typeof Passport> {
  const passport = new Passport();
  passport.use(new PasswordStrategy('form', 'login_form', readFormCredential, loginService));
  passport.use(new PasswordStrategy('rest', 'rest', readRestCredential, loginService));
  passport.use(new PasswordStrategy('api_token', 'api_token', readApiTokenCredential, loginService));
  if (negotiate) passport.use(new NegotiateStrategy(negotiate));
  return passport;
}

/** `passport.authenticate` with a callback, as a promise of the strategy's user (success) or challenge (refusal). */
export function edgeAuthenticator(passport: InstanceType<typeof Passport>): EdgeAuthenticator {
  return <S extends EdgeStrategy>(strategy: S, req: Request, res: Response) =>
    new Promise<EdgeOutcomes[S]>((resolve, reject) => {
      const middleware = passport.authenticate(strategy, { session: false }, (error: unknown, user: EdgeOutcomes[S] | false, challenge: EdgeOutcomes[S]) =>
        error ? reject(error) : resolve(user || challenge),
      ) as (req: Request, res: Response, next: (error?: unknown) => void) => void;
      middleware(req, res, reject);
    });
}
