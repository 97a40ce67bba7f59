import { z } from 'zod';
import type { AccountChanges, Account } from '../../accounts/account';
import { ConflictError } from '../../shared/errors';
import { accountView, etagOf, listAccounts, lockoutView } from '../account-views';
import { lockView } from '../../policy/regulator';
import { apiError } from '../error-codes';
import { actorOf } from '../guard';
import { type ApiResult, type ApiRoute, defineRoute } from '../route-kit';
import {
  accountCreateSchema,
  accountIdParams,
  accountListQuery,
  accountListSchema,
  accountNameParams,
  accountSchema,
  accountUpdateSchema,
  lockoutStateSchema,
  passwordResetSchema,
} from '../schemas';
import { type AccountRouteDeps, page } from './context';
import { accountFactorRoutes } from './factors';

const IF_MATCH_HEADER = {
  name: 'If-Match',
  required: true,
  description: 'The ETag from GET /accounts/{id} (the account version, quoted). "*" overwrites whatever is there.',
};

/**
 * Whether an If-Match header admits the current ETag (RFC 9110 §13.1.1:
 * strong comparison, so weak tags never match). A missing header is refused
 * with 428 rather than treated as "*": silent overwrites are what it prevents.
 */
export function checkIfMatch(header: string | undefined, current: string): void {
  if (header === undefined || header.trim() === '') throw apiError('PRECONDITION_REQUIRED');
  if (header.trim() === '*') return;
  const tags = header.split(',').map((tag) => tag.trim());
  if (!tags.includes(current)) throw apiError('PRECONDITION_FAILED', `The account is at ETag ${current}; it was changed since you read it. Reload it and try again.`);
}

/** An account as GET /accounts/{id} shows it (also `portcullis user show`). */
export async function accountViewOf(deps: Pick<AccountRouteDeps, 'regulator' | 'policy'>, account: Account) {
  return accountView(account, await deps.regulator.view(account.usernameKey), deps.policy.get().password.maxAgeDays);
}

/**
 * Every /accounts/{id} call again at /accounts/by-name/{username}: the same
 * route and handler, run with the id the username (compared as at sign-in)
 * resolves to. Registered first, so a username such as "unlock" is not taken
 * for an id.
 */
function byNameTwins(routes: ApiRoute[], deps: AccountRouteDeps): ApiRoute[] {
  const prefix = '/accounts/{id}';
  return routes
    .filter((route) => route.path.startsWith(prefix))
    .map((route) => ({
      ...route,
      path: `/accounts/by-name/{username}${route.path.slice(prefix.length)}`,
      summary: `${route.summary} (by username)`,
      // The route's other path parameters (a factor id...) stay as they are.
      params: route.params instanceof z.ZodObject ? route.params.omit({ id: true }).extend(accountNameParams.shape) : accountNameParams,
      async handle(ctx) {
        const { username, ...others } = ctx.params as { username: string };
        const account = await deps.accountService.requireByUsername(username);
        return route.handle({ ...ctx, params: { ...others, id: account.id } });
      },
    }));
}

export function accountRoutes(deps: AccountRouteDeps): ApiRoute[] {
  const routes = [...accountRoutesById(deps), ...accountFactorRoutes(deps)];
  return [...byNameTwins(routes, deps), ...routes];
}

async function answer(deps: AccountRouteDeps, status: number, account: Account, extraHeaders: Record<string, string> = {}): Promise<ApiResult> {
  return { status, body: await accountViewOf(deps, account), headers: { ETag: etagOf(account), ...extraHeaders } };
}

/** The lock state in lists comes from the regulator's pure rule, as for one account. */
const listRoute = (deps: AccountRouteDeps) =>
  defineRoute({
    method: 'get',
    path: '/accounts',
    access: 'admin',
    tag: 'accounts',
    summary: 'List accounts (paged; filter by role, source, state, locked, name)',
    query: accountListQuery,
    responses: { 200: { description: 'A page of accounts ordered by username.', schema: accountListSchema } },
    async handle({ query }) {
      const now = deps.clock.now();
      const { items, total } = await listAccounts(deps.accounts, query, now, deps.policy.get().lockout);
      const maxAgeDays = deps.policy.get().password.maxAgeDays;
      const lockout = deps.policy.get().lockout;
      return { status: 200, body: { items: items.map((item) => accountView(item.account, lockView(item.lockout, lockout, now), maxAgeDays)), total, ...page(query) } };
    },
  });

const createRoute = (deps: AccountRouteDeps) =>
  defineRoute({
    method: 'post',
    path: '/accounts',
    access: 'admin',
    tag: 'accounts',
    summary: 'Create an internal account',
    description: 'A new administrator counts against MaxAdministratorCount (409 administrator-limit when full). A password is checked against the password policy.',
    body: accountCreateSchema,
    responses: { 201: { description: 'Created.', schema: accountSchema, headers: { Location: 'URL of the new account.', ETag: 'Its version.' } } },
    errors: [409],
    async handle({ req, body, caller }) {
      const account = await deps.accountService.create(body, actorOf(req, caller));
      return answer(deps, 201, account, { Location: `${req.baseUrl}/accounts/${account.id}` });
    },
  });

const getRoute = (deps: AccountRouteDeps) =>
  defineRoute({
    method: 'get',
    path: '/accounts/{id}',
    access: 'admin',
    tag: 'accounts',
    summary: 'One account, with its lockout state',
    params: accountIdParams,
    responses: { 200: { description: 'The account.', schema: accountSchema, headers: { ETag: 'The account version; send it in If-Match to update.' } } },
    async handle({ params }) {
      return answer(deps, 200, await deps.accountService.get(params.id));
    },
  });

const updateRoute = (deps: AccountRouteDeps) =>
  defineRoute({
    method: 'patch',
    path: '/accounts/{id}',
    access: 'admin',
    tag: 'accounts',
    summary: 'Change display name, e-mail, description, role or enabled',
    description:
      'Needs If-Match (428 without it, 412 when the account changed meanwhile). Promotion counts against MaxAdministratorCount; ' +
      'the last enabled administrator cannot be demoted or disabled (409). Disabling revokes the account\'s tokens.',
    params: accountIdParams,
    body: accountUpdateSchema,
    requestHeaders: [IF_MATCH_HEADER],
    responses: { 200: { description: 'The updated account.', schema: accountSchema, headers: { ETag: 'The new version.' } } },
    errors: [409, 412, 428],
    async handle({ req, params, body, caller }) {
      const current = await deps.accountService.get(params.id);
      const ifMatch = req.get('if-match');
      checkIfMatch(ifMatch, etagOf(current));
      const changes: AccountChanges = Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
      const actor = actorOf(req, caller);
      let updated: Account;
      try {
        updated = await deps.accountService.update(params.id, changes, actor, ifMatch?.trim() === '*' ? undefined : current.version);
      } catch (error) {
        // Someone else's write landed between our read and our conditional update.
        if (error instanceof ConflictError && error.code === 'version_mismatch') throw apiError('PRECONDITION_FAILED');
        throw error;
      }
      if (current.enabled && !updated.enabled) await deps.tokens.revokeAllFor(updated.id, 'account_disabled', actor);
      return answer(deps, 200, updated);
    },
  });

const deleteRoute = (deps: AccountRouteDeps) =>
  defineRoute({
    method: 'delete',
    path: '/accounts/{id}',
    access: 'admin',
    tag: 'accounts',
    summary: 'Delete an account (its tokens go with it)',
    description: 'The last enabled administrator cannot be deleted (409 last-administrator).',
    params: accountIdParams,
    responses: { 204: { description: 'Deleted.' } },
    errors: [409],
    async handle({ req, params, caller }) {
      await deps.accountService.delete(params.id, actorOf(req, caller));
      return { status: 204 };
    },
  });

const passwordRoute = (deps: AccountRouteDeps) =>
  defineRoute({
    method: 'post',
    path: '/accounts/{id}/password',
    access: 'admin',
    tag: 'accounts',
    summary: 'Set a new password, by default forcing a change at the next sign-in',
    description: 'The password policy and history apply. Revokes the account\'s tokens (except the one making this call).',
    params: accountIdParams,
    body: passwordResetSchema,
    responses: { 204: { description: 'Password set.' } },
    async handle({ req, params, body, caller }) {
      const account = await deps.accountService.get(params.id);
      const actor = actorOf(req, caller);
      await deps.accountService.setPassword(account, body.password, { mustChange: body.mustChangePassword, actor });
      await deps.tokens.revokeAllFor(account.id, 'password_reset', actor, caller.token.id);
      return { status: 204 };
    },
  });

const unlockRoute = (deps: AccountRouteDeps) =>
  defineRoute({
    method: 'post',
    path: '/accounts/{id}/unlock',
    access: 'admin',
    tag: 'accounts',
    summary: 'Clear the failed sign-in count and any lock',
    params: accountIdParams,
    responses: { 200: { description: 'The lockout state afterwards.', schema: lockoutStateSchema } },
    async handle({ req, params, caller }) {
      const account = await deps.accountService.get(params.id);
      await deps.accountService.unlock(account.username, actorOf(req, caller));
      return { status: 200, body: lockoutView(await deps.regulator.view(account.usernameKey)) };
    },
  });

const lockoutRoute = (deps: AccountRouteDeps) =>
  defineRoute({
    method: 'get',
    path: '/accounts/{id}/lockout',
    access: 'admin',
    tag: 'accounts',
    summary: 'Failed sign-in count and lock of one account',
    params: accountIdParams,
    responses: { 200: { description: 'The lockout state.', schema: lockoutStateSchema } },
    async handle({ params }) {
      const account = await deps.accountService.get(params.id);
      return { status: 200, body: lockoutView(await deps.regulator.view(account.usernameKey)) };
    },
  });

function accountRoutesById(deps: AccountRouteDeps): ApiRoute[] {
  return [listRoute, createRoute, getRoute, updateRoute, deleteRoute, passwordRoute, unlockRoute, lockoutRoute].map((route) => route(deps));
}
