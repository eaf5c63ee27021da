/**
 * Virtual key administration, LiteLLM compatible (https://docs.litellm.ai/docs/proxy/virtual_keys):
 * `POST /key/generate`, `/key/update`, `/key/regenerate` and `/key/delete` need the master key;
 * `GET /key/info` answers the master about any key, and a virtual key about itself only. The
 * secret is shown once, at generation or regeneration; info never contains it.
 */
import { z } from 'zod';
import { InvalidRequestError, NotFoundError, PermissionDeniedError } from '../../spec/errors.ts';
import { parseDurationMs } from '../../auth/duration.ts';
import { presentedKeyOf } from '../../auth/presented-key.ts';
import type { VirtualKeyPatch, VirtualKeyRecord } from '../../storage/key-store.ts';
import { budgetFieldSchemas, budgetPatchOf, checkModelGroups, isoOrNull, modelMaxBudgetOf } from './budget-fields.ts';
import { echoName } from '../model-access.ts';
import { parseInput, parseQuery } from '../parse-input.ts';
import { principalOf } from '../request-context.ts';
import type { AppServices, RouteModule } from '../services.ts';

const optionalId = z.string().min(1).max(256).nullish();

/**
 * Strict: a LiteLLM field Portico does not enforce (`allowed_cache_controls`, ...) is refused,
 * not ignored. `rpm_limit` / `tpm_limit` / `max_parallel_requests` are enforced on the model
 * routes, across instances when `REDIS_URL` is set; `max_budget` and `model_max_budget` on the
 * model routes, `max_budget` on batch creates too (`server/rate-limit-hook.ts`),
 * `budget_duration` resets the spend (`jobs/key-budget-reset.ts`); `soft_budget` is stored and
 * shown. The key's user and team (`/user/new`, `/team/new`), when they exist, add their own.
 */
const keyDuration = z
  .string()
  .refine((text) => parseDurationMs(text) !== undefined, 'expected a duration such as "30s", "30m", "1h", "30d", "2w", "1mo" or "1y", of at most 1000y');
const keyFields = {
  user_id: optionalId,
  team_id: optionalId,
  key_alias: optionalId,
  duration: keyDuration.nullish(),
  ...budgetFieldSchemas,
};
const generateKeyBody = z.strictObject(keyFields);
const blockKeyBody = z.strictObject({ key: z.string().min(1) });
const updateKeyBody = z.strictObject({ key: z.string().min(1), blocked: z.boolean().optional(), ...keyFields });
const regenerateKeyBody = z.strictObject({ key: z.string().min(1).optional(), ...keyFields });

const deleteKeysBody = z.strictObject({
  keys: z.array(z.string().min(1)).min(1),
});

const keyInfoQuery = z.looseObject({ key: z.string().min(1).optional() });

const MAX_KEY_PAGE_SIZE = 100;
const keyListQuery = z.looseObject({
  page: z.coerce.number().int().positive().optional(),
  size: z.coerce.number().int().positive().max(MAX_KEY_PAGE_SIZE).optional(),
  user_id: z.string().min(1).optional(),
  team_id: z.string().min(1).optional(),
  return_full_object: z.enum(['true', 'false']).optional(),
});

export function keyInfo(record: VirtualKeyRecord) {
  return {
    token: record.id,
    key_alias: record.keyAlias,
    models: record.models,
    user_id: record.userId,
    team_id: record.teamId,
    metadata: record.metadata,
    spend: record.spend,
    reserved_spend: record.reservedSpend ?? 0,
    expires: isoOrNull(record.expiresAt),
    created_at: isoOrNull(record.createdAt),
    blocked: record.blocked,
    rpm_limit: record.rpmLimit ?? null,
    tpm_limit: record.tpmLimit ?? null,
    max_budget: record.maxBudget ?? null,
    soft_budget: record.softBudget ?? null,
    budget_duration: record.budgetDuration ?? null,
    budget_reset_at: isoOrNull(record.budgetResetAt ?? null),
    max_parallel_requests: record.maxParallelRequests ?? null,
    model_max_budget: record.modelMaxBudget ?? {},
  };
}

/** What `/key/generate` and `/key/regenerate` answer: the secret, once, with the key's info. */
function generatedKeyView(secret: string, record: VirtualKeyRecord) {
  const info = keyInfo(record);
  return {
    key: secret,
    key_name: `sk-...${secret.slice(-4)}`,
    key_alias: info.key_alias,
    expires: info.expires,
    models: info.models,
    user_id: info.user_id,
    team_id: info.team_id,
    metadata: info.metadata,
    rpm_limit: info.rpm_limit,
    tpm_limit: info.tpm_limit,
    max_budget: info.max_budget,
    soft_budget: info.soft_budget,
    budget_duration: info.budget_duration,
    budget_reset_at: info.budget_reset_at,
    max_parallel_requests: info.max_parallel_requests,
    model_max_budget: info.model_max_budget,
    token: info.token,
    created_at: info.created_at,
  };
}

type KeyFieldsBody = Partial<z.output<typeof generateKeyBody>>;

/**
 * The key fields a body names, as a store patch. A key of an existing team may use only the
 * team's models (LiteLLM), so its own `models` must be among them.
 */
async function keyPatchOf(services: AppServices, body: KeyFieldsBody, teamId: string | null | undefined): Promise<VirtualKeyPatch> {
  checkModelGroups(services.router, body.models);
  checkModelGroups(services.router, Object.keys(body.model_max_budget ?? {}), 'model_max_budget');
  if (teamId != null && body.models !== undefined && body.models.length > 0) {
    const team = await services.teams?.find(teamId);
    const outside = team === undefined || team.models.length === 0 ? undefined : body.models.find((model) => !team.models.includes(model));
    if (outside !== undefined) {
      throw new InvalidRequestError(`Model \`${echoName(outside)}\` is not among the models of team ${teamId.slice(0, 256)}.`, { param: 'models', code: 'model_not_in_team' });
    }
  }
  const { maxBudget, softBudget, budgetDuration, budgetResetAt, rpmLimit, tpmLimit, maxParallelRequests, modelMaxBudget, models, metadata } = budgetPatchOf(body);
  return {
    ...(models !== undefined && { models }),
    ...(metadata !== undefined && { metadata }),
    ...(maxBudget !== undefined && { maxBudget }),
    ...(softBudget !== undefined && { softBudget }),
    ...(budgetDuration !== undefined && { budgetDuration, budgetResetAt }),
    ...(rpmLimit !== undefined && { rpmLimit }),
    ...(tpmLimit !== undefined && { tpmLimit }),
    ...(maxParallelRequests !== undefined && { maxParallelRequests }),
    ...(modelMaxBudget !== undefined && { modelMaxBudget }),
    ...(body.user_id !== undefined && { userId: body.user_id }),
    ...(body.team_id !== undefined && { teamId: body.team_id }),
    ...(body.key_alias !== undefined && { keyAlias: body.key_alias }),
    ...(body.duration !== undefined && { expiresAt: body.duration === null ? null : Math.floor((Date.now() + (parseDurationMs(body.duration) ?? 0)) / 1000) }),
  };
}

export const keyRoutes: RouteModule = {
  name: 'keys',
  register(app, services) {
    app.post('/key/generate', { config: { auth: 'master' } }, async (request) => {
      const body = parseInput(generateKeyBody, request.body);
      const models = body.models ?? [];
      const unknown = models.find((model) => !services.router.hasModelGroup(model) && !services.router.isAccessGroup(model));
      if (unknown !== undefined) {
        throw new InvalidRequestError(`Unknown model group \`${echoName(unknown)}\` in 'models'.`, { param: 'models', code: 'model_not_found' });
      }
      await keyPatchOf(services, body, body.team_id);
      const { secret, record } = await services.keys.generate({
        models,
        userId: body.user_id ?? null,
        teamId: body.team_id ?? null,
        keyAlias: body.key_alias ?? null,
        durationMs: body.duration ? (parseDurationMs(body.duration) ?? null) : null,
        metadata: body.metadata ?? {},
        rpmLimit: body.rpm_limit ?? null,
        tpmLimit: body.tpm_limit ?? null,
        maxBudget: body.max_budget ?? null,
        softBudget: body.soft_budget ?? null,
        budgetDuration: body.budget_duration ?? null,
        maxParallelRequests: body.max_parallel_requests ?? null,
        modelMaxBudget: modelMaxBudgetOf(body.model_max_budget),
      });
      return generatedKeyView(secret, record);
    });

    // LiteLLM's `/key/update`: the fields given change, the others stay; every instance drops its
    // cached copy of the key at once.
    app.post('/key/update', { config: { auth: 'master' } }, async (request) => {
      const body = parseInput(updateKeyBody, request.body);
      const existing = await services.keys.find(body.key);
      if (existing === undefined) throw new NotFoundError('No key found with this value.', { param: 'key', code: 'key_not_found' });
      const patch = await keyPatchOf(services, body, body.team_id === undefined ? existing.teamId : body.team_id);
      const updated = await services.keys.update(existing.id, { ...patch, ...(body.blocked !== undefined && { blocked: body.blocked }) });
      if (updated === undefined) throw new NotFoundError('No key found with this value.', { param: 'key', code: 'key_not_found' });
      return { key: updated.id, ...keyInfo(updated) };
    });

    // LiteLLM's `/key/regenerate` (and `/key/{key}/regenerate`): a new secret for the same key;
    // the old one is refused at once on every instance.
    const regenerate = async (keyParam: string | undefined, rawBody: unknown) => {
      const body = parseInput(regenerateKeyBody, rawBody ?? {});
      const target = keyParam ?? body.key;
      if (target === undefined) throw new InvalidRequestError("Missing required parameter: 'key'.", { param: 'key', code: 'missing_required_parameter' });
      const existing = await services.keys.find(target);
      if (existing === undefined) throw new NotFoundError('No key found with this value.', { param: 'key', code: 'key_not_found' });
      const patch = await keyPatchOf(services, body, body.team_id === undefined ? existing.teamId : body.team_id);
      const regenerated = await services.keys.regenerate(existing.id, patch);
      if (regenerated === undefined) throw new NotFoundError('No key found with this value.', { param: 'key', code: 'key_not_found' });
      return generatedKeyView(regenerated.secret, regenerated.record);
    };
    app.post('/key/regenerate', { config: { auth: 'master' } }, async (request) => regenerate(undefined, request.body));
    app.post<{ Params: { key: string } }>('/key/:key/regenerate', { config: { auth: 'master' } }, async (request) => regenerate(request.params.key, request.body));

    app.get('/key/info', async (request) => {
      const principal = principalOf(request);
      const asked = parseQuery(keyInfoQuery, request.query).key;
      const presented = presentedKeyOf(request.headers);
      // A console session carries no key in a header: it names its key by id.
      const target = asked ?? (principal.isMaster ? undefined : (presented ?? principal.keyId ?? undefined));
      if (target === undefined) {
        throw new InvalidRequestError("Missing required parameter: 'key'.", { param: 'key', code: 'missing_required_parameter' });
      }
      // A virtual key may ask only about itself: decided before any lookup, so it cannot probe others.
      if (!principal.isMaster && target !== presented && target !== principal.keyId) {
        throw new PermissionDeniedError('A virtual key may only read its own info; use the master key for other keys.', {
          param: 'key',
        });
      }
      const record = await services.keys.find(target);
      if (record === undefined) throw new NotFoundError('No key found with this value.', { param: 'key', code: 'key_not_found' });
      return { key: record.id, info: keyInfo(record) };
    });

    // LiteLLM's `/key/list`: key ids (`token`s) by default, the key's info with `return_full_object=true`; never a secret.
    app.get('/key/list', { config: { auth: 'master' } }, async (request) => {
      const query = parseQuery(keyListQuery, request.query);
      const page = query.page ?? 1;
      const size = query.size ?? 10;
      const { keys, total } = await services.keys.list({ offset: (page - 1) * size, limit: size, userId: query.user_id, teamId: query.team_id });
      return {
        keys: query.return_full_object === 'true' ? keys.map(keyInfo) : keys.map((record) => record.id),
        total_count: total,
        current_page: page,
        total_pages: Math.ceil(total / size),
      };
    });

    // LiteLLM's `/key/block` and `/key/unblock` (`{ "key": "sk-..." }`, the secret or the key's id):
    // `/key/update` with `blocked` alone. A blocked key is refused (401 `key_blocked`) on every
    // instance at once, and works again once unblocked; nothing else about it changes.
    const setBlocked = async (rawBody: unknown, blocked: boolean) => {
      const body = parseInput(blockKeyBody, rawBody);
      const existing = await services.keys.find(body.key);
      if (existing === undefined) throw new NotFoundError('No key found with this value.', { param: 'key', code: 'key_not_found' });
      const updated = await services.keys.update(existing.id, { blocked });
      if (updated === undefined) throw new NotFoundError('No key found with this value.', { param: 'key', code: 'key_not_found' });
      return { key: updated.id, ...keyInfo(updated) };
    };
    app.post('/key/block', { config: { auth: 'master' } }, async (request) => setBlocked(request.body, true));
    app.post('/key/unblock', { config: { auth: 'master' } }, async (request) => setBlocked(request.body, false));

    app.post('/key/delete', { config: { auth: 'master' } }, async (request) => {
      const body = parseInput(deleteKeysBody, request.body);
      const deleted = await services.keys.delete(body.keys);
      if (deleted.length === 0) throw new NotFoundError('None of the given keys exist.', { param: 'keys', code: 'key_not_found' });
      return { deleted_keys: deleted };
    });
  },
};
