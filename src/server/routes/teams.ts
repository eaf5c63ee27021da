/**
 * Teams, LiteLLM compatible (https://docs.litellm.ai/docs/proxy/team_budgets): `/team/new`,
 * `/team/info`, `/team/update`, `/team/delete`, `/team/list`, `/team/member_add`,
 * `/team/member_delete`, master key only. A team is a budget subject of every key naming it
 * (`max_budget`, `budget_duration`, `rpm_limit`, `tpm_limit`, `max_parallel_requests`,
 * `model_max_budget`), and its `models` bound theirs. Keys read their team with themselves into
 * the key cache; a change here evicts the team's keys on every instance, so it applies at once.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../../spec/errors.ts';
import type { TeamMember, TeamRecord, TeamStore } from '../../storage/team-store.ts';
import { parseInput, parseQuery } from '../parse-input.ts';
import type { AppServices, RouteModule } from '../services.ts';
import { budgetFieldSchemas, budgetPatchOf, budgetView, checkModelGroups, newBudgetFields } from './budget-fields.ts';
import { keyInfo } from './keys.ts';

const id = z.string().min(1).max(256);
const member = z.looseObject({
  role: z.enum(['admin', 'user']).optional(),
  user_id: id.nullish(),
  user_email: z.string().min(1).max(320).nullish(),
}).refine((value) => value.user_id != null || value.user_email != null, 'a member needs a user_id or a user_email');

const newTeamBody = z.strictObject({
  team_id: id.nullish(),
  team_alias: id.nullish(),
  members_with_roles: z.array(member).optional(),
  blocked: z.boolean().optional(),
  ...budgetFieldSchemas,
});

const updateTeamBody = z.strictObject({
  team_id: id,
  team_alias: id.nullish(),
  blocked: z.boolean().optional(),
  spend: z.number().nonnegative().optional(),
  ...budgetFieldSchemas,
});

const deleteTeamsBody = z.strictObject({ team_ids: z.array(id).min(1) });
const memberAddBody = z.strictObject({ team_id: id, member: z.union([member, z.array(member).min(1)]) });
const memberDeleteBody = z.strictObject({ team_id: id, user_id: id.nullish(), user_email: z.string().min(1).nullish() });
const teamInfoQuery = z.looseObject({ team_id: id });
const teamListQuery = z.looseObject({ user_id: id.optional() });

export function teamView(team: TeamRecord) {
  return {
    team_id: team.teamId,
    team_alias: team.teamAlias,
    members_with_roles: team.members,
    blocked: team.blocked,
    ...budgetView(team),
  };
}

/** A member given by email only gets its email as user id (LiteLLM creates such a user the same way). */
function toMember(given: z.output<typeof member>): TeamMember {
  return { user_id: given.user_id ?? (given.user_email as string), user_email: given.user_email ?? null, role: given.role ?? 'user' };
}

async function teamOrNotFound(teams: TeamStore, teamId: string): Promise<TeamRecord> {
  const team = await teams.find(teamId);
  if (team === undefined) throw new NotFoundError(`Team not found, passed team_id=${teamId.slice(0, 256)}`, { param: 'team_id', code: 'team_not_found' });
  return team;
}

export const teamRoutes: RouteModule = {
  name: 'teams',
  register(app, services: AppServices) {
    const teams = services.teams;
    if (teams === undefined) return;
    const master = { config: { auth: 'master' as const } };

    app.post('/team/new', master, async (request) => {
      const body = parseInput(newTeamBody, request.body);
      checkModelGroups(services.router, body.models);
      const team: TeamRecord = {
        teamId: body.team_id ?? randomUUID(),
        teamAlias: body.team_alias ?? null,
        members: (body.members_with_roles ?? []).map(toMember),
        blocked: body.blocked ?? false,
        ...newBudgetFields(body),
      };
      if (!(await teams.insert(team))) throw new ConflictError(`Team id = ${team.teamId} already exists. Please use a different team id.`, { param: 'team_id', code: 'team_exists' });
      return teamView(team);
    });

    app.get('/team/info', master, async (request) => {
      const { team_id: teamId } = parseQuery(teamInfoQuery, request.query);
      const team = await teamOrNotFound(teams, teamId);
      const { keys } = await services.keys.list({ offset: 0, limit: 1000, teamId });
      return { team_id: team.teamId, team_info: teamView(team), keys: keys.map(keyInfo), team_memberships: [] };
    });

    app.get('/team/list', master, async (request) => {
      const query = parseQuery(teamListQuery, request.query);
      return (await teams.list({ userId: query.user_id })).map(teamView);
    });

    app.post('/team/update', master, async (request) => {
      const body = parseInput(updateTeamBody, request.body);
      checkModelGroups(services.router, body.models);
      const updated = await teams.update(body.team_id, {
        ...budgetPatchOf(body),
        ...(body.team_alias !== undefined && { teamAlias: body.team_alias }),
        ...(body.blocked !== undefined && { blocked: body.blocked }),
        ...(body.spend !== undefined && { spend: body.spend }),
      });
      if (updated === undefined) await teamOrNotFound(teams, body.team_id);
      await services.keys.evictKeysOf({ teamId: body.team_id });
      return { team_id: body.team_id, data: teamView(updated as TeamRecord) };
    });

    // LiteLLM deletes a team's keys with it: nothing keeps using a budget that is gone.
    app.post('/team/delete', master, async (request) => {
      const body = parseInput(deleteTeamsBody, request.body);
      for (const teamId of body.team_ids) await teamOrNotFound(teams, teamId);
      for (const teamId of body.team_ids) {
        const { keys } = await services.keys.list({ offset: 0, limit: 10_000, teamId });
        if (keys.length > 0) await services.keys.delete(keys.map((key) => key.id));
      }
      return { deleted_teams: await teams.delete(body.team_ids) };
    });

    app.post('/team/member_add', master, async (request) => {
      const body = parseInput(memberAddBody, request.body);
      const members = (Array.isArray(body.member) ? body.member : [body.member]).map(toMember);
      const updated = await teams.addMembers(body.team_id, members);
      if (updated === undefined) await teamOrNotFound(teams, body.team_id);
      const users = services.users;
      const updatedUsers = users === undefined ? [] : await Promise.all(members.map((added) => users.find(added.user_id)));
      return {
        ...teamView(updated as TeamRecord),
        updated_users: updatedUsers.filter((user) => user !== undefined).map((user) => ({ user_id: user.userId, user_email: user.userEmail, user_role: user.userRole, teams: user.teams })),
        updated_team_memberships: [],
      };
    });

    app.post('/team/member_delete', master, async (request) => {
      const body = parseInput(memberDeleteBody, request.body);
      const team = await teamOrNotFound(teams, body.team_id);
      const leaving = team.members.filter((m) => (body.user_id != null && m.user_id === body.user_id) || (body.user_email != null && m.user_email === body.user_email));
      if (leaving.length === 0) throw new NotFoundError('No such member in this team.', { param: body.user_id != null ? 'user_id' : 'user_email', code: 'member_not_found' });
      const updated = await teams.removeMembers(body.team_id, leaving.map((m) => m.user_id));
      return teamView(updated as TeamRecord);
    });
  },
};
