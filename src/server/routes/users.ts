/**
 * Internal users, LiteLLM compatible (https://docs.litellm.ai/docs/proxy/users): `/user/new`,
 * `/user/info`, `/user/update`, `/user/delete`, master key only. A user is a budget subject of
 * every key naming it (`max_budget`, `budget_duration`, `rpm_limit`, `tpm_limit`,
 * `max_parallel_requests`, `model_max_budget`). `/user/new` also mints a key for the user unless
 * `auto_create_key` is false, as LiteLLM does.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConflictError, InvalidRequestError, NotFoundError } from '../../spec/errors.ts';
import { USER_ROLES, type UserRecord, type UserStore } from '../../storage/user-store.ts';
import { parseInput, parseQuery } from '../parse-input.ts';
import type { AppServices, RouteModule } from '../services.ts';
import { budgetFieldSchemas, budgetPatchOf, budgetView, checkModelGroups, newBudgetFields } from './budget-fields.ts';
import { keyInfo } from './keys.ts';
import { teamView } from './teams.ts';

const id = z.string().min(1).max(256);
const userFields = {
  user_email: z.string().min(1).max(320).nullish(),
  user_alias: id.nullish(),
  user_role: z.enum(USER_ROLES).optional(),
  ...budgetFieldSchemas,
};

const newUserBody = z.strictObject({
  user_id: id.nullish(),
  teams: z.array(id).optional(),
  auto_create_key: z.boolean().optional(),
  key_alias: id.nullish(),
  ...userFields,
});
const updateUserBody = z.strictObject({ user_id: id, spend: z.number().nonnegative().optional(), ...userFields });
const deleteUsersBody = z.strictObject({ user_ids: z.array(id).min(1) });
const userInfoQuery = z.looseObject({ user_id: id });

function userView(user: UserRecord) {
  return {
    user_id: user.userId,
    user_email: user.userEmail,
    user_alias: user.userAlias,
    user_role: user.userRole,
    teams: user.teams,
    ...budgetView(user),
  };
}

async function userOrNotFound(users: UserStore, userId: string): Promise<UserRecord> {
  const user = await users.find(userId);
  if (user === undefined) throw new NotFoundError(`User not found, passed user_id=${userId.slice(0, 256)}`, { param: 'user_id', code: 'user_not_found' });
  return user;
}

export const userRoutes: RouteModule = {
  name: 'users',
  register(app, services: AppServices) {
    const users = services.users;
    const teams = services.teams;
    if (users === undefined || teams === undefined) return;
    const master = { config: { auth: 'master' as const } };

    app.post('/user/new', master, async (request) => {
      const body = parseInput(newUserBody, request.body);
      checkModelGroups(services.router, body.models);
      for (const teamId of body.teams ?? []) {
        if ((await teams.find(teamId)) === undefined) throw new InvalidRequestError(`Team not found, passed team_id=${teamId}`, { param: 'teams', code: 'team_not_found' });
      }
      const user: UserRecord = {
        userId: body.user_id ?? randomUUID(),
        userEmail: body.user_email ?? null,
        userAlias: body.user_alias ?? null,
        userRole: body.user_role ?? 'internal_user',
        teams: [...new Set(body.teams ?? [])],
        ...newBudgetFields(body),
      };
      if (!(await users.insert(user))) throw new ConflictError(`User with id = ${user.userId} already exists.`, { param: 'user_id', code: 'user_exists' });
      const view = userView(user);
      if (body.auto_create_key === false) return view;
      // The user's budget and limits are the user's, not copied onto its key.
      const { secret, record } = await services.keys.generate({
        models: user.models,
        userId: user.userId,
        teamId: null,
        keyAlias: body.key_alias ?? null,
        durationMs: null,
        metadata: {},
      });
      return { ...view, key: secret, token: record.id, key_alias: record.keyAlias, expires: null };
    });

    app.get('/user/info', master, async (request) => {
      const { user_id: userId } = parseQuery(userInfoQuery, request.query);
      const user = await userOrNotFound(users, userId);
      const [{ keys }, userTeams] = await Promise.all([services.keys.list({ offset: 0, limit: 1000, userId }), Promise.all(user.teams.map((teamId) => teams.find(teamId)))]);
      return {
        user_id: user.userId,
        user_info: userView(user),
        keys: keys.map(keyInfo),
        teams: userTeams.filter((team) => team !== undefined).map(teamView),
      };
    });

    app.post('/user/update', master, async (request) => {
      const body = parseInput(updateUserBody, request.body);
      checkModelGroups(services.router, body.models);
      const updated = await users.update(body.user_id, {
        ...budgetPatchOf(body),
        ...(body.user_email !== undefined && { userEmail: body.user_email }),
        ...(body.user_alias !== undefined && { userAlias: body.user_alias }),
        ...(body.user_role !== undefined && { userRole: body.user_role }),
        ...(body.spend !== undefined && { spend: body.spend }),
      });
      if (updated === undefined) await userOrNotFound(users, body.user_id);
      await services.keys.evictKeysOf({ userId: body.user_id });
      return { user_id: body.user_id, data: userView(updated as UserRecord) };
    });

    // LiteLLM deletes a user's keys with it.
    app.post('/user/delete', master, async (request) => {
      const body = parseInput(deleteUsersBody, request.body);
      for (const userId of body.user_ids) await userOrNotFound(users, userId);
      for (const userId of body.user_ids) {
        const { keys } = await services.keys.list({ offset: 0, limit: 10_000, userId });
        if (keys.length > 0) await services.keys.delete(keys.map((key) => key.id));
      }
      return { deleted_users: await users.delete(body.user_ids) };
    });
  },
};
