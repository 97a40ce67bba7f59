import { INTERNAL_BACKEND } from '../../authn/internal-backend';
import { PolicyError } from '../../shared/errors';
import { isoOrNull, isoTime, passwordExpiresAt } from '../account-views';
import { apiError } from '../error-codes';
import { actorOf } from '../guard';
import { type ApiRoute, defineRoute } from '../route-kit';
import { meSchema, passwordChangeSchema } from '../schemas';
import { type MeRouteDeps, requestContext } from './context';

const meRoute = ({ policy }: MeRouteDeps) =>
  defineRoute({
    method: 'get',
    path: '/me',
    access: 'account',
    tag: 'me',
    summary: 'The account the token belongs to',
    responses: { 200: { description: 'Your account.', schema: meSchema } },
    async handle({ caller }) {
      const { account, token } = caller;
      return {
        status: 200,
        body: {
          id: account.id,
          username: account.username,
          displayName: account.displayName,
          email: account.email,
          role: account.role,
          source: account.source,
          mustChangePassword: account.mustChangePassword,
          passwordChangedAt: isoOrNull(account.passwordChangedAt),
          passwordExpiresAt: isoOrNull(passwordExpiresAt(account, policy.get().password.maxAgeDays)),
          lastLoginAt: isoOrNull(account.lastLoginAt),
          tokenScope: token.scope,
          tokenExpiresAt: isoTime(token.expiresAt),
        },
      };
    },
  });

const myPasswordRoute = ({ accountService, loginService, audit, clock, tokens }: MeRouteDeps) =>
  defineRoute({
    method: 'post',
    path: '/me/password',
    access: 'account',
    tag: 'me',
    summary: 'Change your own password',
    description:
      'Needs the current password (a wrong one counts towards the lockout, like a failed sign-in). The new one must satisfy the password policy and history. ' +
      'Afterwards every other token of the account is revoked; a password_change token is revoked too, so sign in again with the new password.',
    body: passwordChangeSchema,
    responses: { 204: { description: 'Password changed.' } },
    errors: [403, 423],
    async handle({ req, body, caller }) {
      const { account, token } = caller;
      const actor = actorOf(req, caller);
      if (account.source !== INTERNAL_BACKEND) {
        throw new PolicyError('directory_password', `"${account.username}" signs in through ${account.source}; change the password with that directory's own tools.`);
      }
      const confirmation = await loginService.confirmPassword(account, body.currentPassword, requestContext(req, 'me_password'));
      if (confirmation !== 'confirmed') {
        if (confirmation.status === 'locked') throw apiError('ACCOUNT_LOCKED', undefined, [], { lockedUntil: isoTime(confirmation.lockedUntil) });
        await audit.append(
          { event: 'password_change', outcome: 'failure', username: account.username, actor: actor.name, clientIp: actor.clientIp, details: { reason: 'current_password_incorrect' } },
          clock.now(),
        );
        throw apiError('CURRENT_PASSWORD_INCORRECT');
      }
      await accountService.setPassword(account, body.newPassword, { mustChange: false, actor });
      await tokens.revokeAllFor(account.id, 'password_changed', actor, token.scope === 'full' ? token.id : undefined);
      return { status: 204 };
    },
  });

/** The two calls every account may make about itself. */
export function meRoutes(deps: MeRouteDeps): ApiRoute[] {
  return [meRoute(deps), myPasswordRoute(deps)];
}
