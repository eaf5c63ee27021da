/**
 * Virtual key administration, LiteLLM compatible (https://docs.litellm.ai/docs/proxy/virtual_keys):
 * `POST /key/generate` and `POST /key/delete` need the master key; `GET /key/info` answers the
 * master about any key, and a virtual key about itself only. The secret is shown once, at
 * generation; info never contains it.
 */
import { z } from 'zod';
import { InvalidRequestError, NotFoundError, PermissionDeniedError } from '../../spec/errors.ts';
import { parseDurationMs } from '../../auth/duration.ts';
import { presentedKeyOf } from '../../auth/presented-key.ts';
import type { VirtualKeyRecord } from '../../storage/key-store.ts';
import { echoName } from '../model-access.ts';
import { parseInput, parseQuery } from '../parse-input.ts';
import { principalOf } from '../request-context.ts';
import type { RouteModule } from '../services.ts';

const optionalId = z.string().min(1).max(256).nullish();

/**
 * Strict: a LiteLLM field Portico does not enforce (`max_parallel_requests`, `model_max_budget`,
 * ...) is refused, not ignored. `rpm_limit` / `tpm_limit` are enforced on the model routes, across
 * instances when `REDIS_URL` is set; `max_budget` on the model routes and batch creates
 * (`server/rate-limit-hook.ts`), `budget_duration` resets the spend (`jobs/key-budget-reset.ts`);
 * `soft_budget` is stored and shown.
 */
const generateKeyBody = z.strictObject({
  models: z.array(z.string().min(1)).optional(),
  user_id: optionalId,
  team_id: optionalId,
  key_alias: optionalId,
  duration: z
    .string()
    .refine((text) => parseDurationMs(text) !== undefined, 'expected a duration such as "30s", "30m", "1h", "30d", "2w", "1mo" or "1y", of at most 1000y')
    .nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  rpm_limit: z.number().int().nonnegative().nullish(),
  tpm_limit: z.number().int().nonnegative().nullish(),
  max_budget: z.number().nonnegative().nullish(),
  soft_budget: z.number().nonnegative().nullish(),
  budget_duration: z
    .string()
    .refine((text) => parseDurationMs(text) !== undefined, 'expected a duration such as "30s", "30m", "1h", "30d", "1mo"')
    .nullish(),
});

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

function isoOrNull(unixSeconds: number | null): string | null {
  return unixSeconds === null ? null : new Date(unixSeconds * 1000).toISOString();
}

function keyInfo(record: VirtualKeyRecord) {
  return {
    token: record.id,
    key_alias: record.keyAlias,
    models: record.models,
    user_id: record.userId,
    team_id: record.teamId,
    metadata: record.metadata,
    spend: record.spend,
    expires: isoOrNull(record.expiresAt),
    created_at: isoOrNull(record.createdAt),
    blocked: record.blocked,
    rpm_limit: record.rpmLimit ?? null,
    tpm_limit: record.tpmLimit ?? null,
    max_budget: record.maxBudget ?? null,
    soft_budget: record.softBudget ?? null,
    budget_duration: record.budgetDuration ?? null,
    budget_reset_at: isoOrNull(record.budgetResetAt ?? null),
  };
}

export const keyRoutes: RouteModule = {
  name: 'keys',
  register(app, services) {
    app.post('/key/generate', { config: { auth: 'master' } }, async (request) => {
      const body = parseInput(generateKeyBody, request.body);
      const models = body.models ?? [];
      const unknown = models.find((model) => !services.router.hasModelGroup(model));
      if (unknown !== undefined) {
        throw new InvalidRequestError(`Unknown model group \`${echoName(unknown)}\` in 'models'.`, { param: 'models', code: 'model_not_found' });
      }
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
      });
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
        token: info.token,
        created_at: info.created_at,
      };
    });

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

    app.post('/key/delete', { config: { auth: 'master' } }, async (request) => {
      const body = parseInput(deleteKeysBody, request.body);
      const deleted = await services.keys.delete(body.keys);
      if (deleted.length === 0) throw new NotFoundError('None of the given keys exist.', { param: 'keys', code: 'key_not_found' });
      return { deleted_keys: deleted };
    });
  },
};
