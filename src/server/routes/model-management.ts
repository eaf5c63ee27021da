/**
 * LiteLLM's model management API (https://docs.litellm.ai/docs/proxy/model_management), master
 * key only, with `general_settings.store_model_in_db: true` (or `STORE_MODEL_IN_DB=True`):
 * `POST /model/new`, `POST /model/update` and `PATCH /model/{id}/update`, `POST /model/delete`.
 * The models live in the database and every instance serves them (`server/stored-models.ts`);
 * `/model/info` lists them with `db_model: true`. A config file's models are changed in the file.
 * Answers carry the stored row as LiteLLM's `LiteLLM_ProxyModelTable` does, the secrets of its
 * `litellm_params` masked.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { InvalidRequestError } from '../../spec/errors.ts';
import type { StoredModelRecord } from '../../storage/stored-model-store.ts';
import { isSecretName } from '../../config/secret-redactor.ts';
import { parseInput } from '../parse-input.ts';
import { MASKED_SECRET } from '../stored-models.ts';
import { principalOf } from '../request-context.ts';
import type { AppServices, RouteModule } from '../services.ts';

const params = z.record(z.string(), z.unknown());
const newModelBody = z.looseObject({
  model_name: z.string().min(1).max(256),
  litellm_params: params.refine((value) => typeof value.model === 'string' && value.model !== '', 'must name the model (litellm_params.model)'),
  model_info: params.nullish(),
});
const updateFields = {
  model_name: z.string().min(1).max(256).nullish(),
  litellm_params: params.nullish(),
  model_info: params.nullish(),
};
const updateBody = z.looseObject({ ...updateFields, model_info: params.refine((value) => typeof value.id === 'string' && value.id !== '', 'must hold the id of the model to change (model_info.id)') });
const patchBody = z.looseObject(updateFields);
const deleteBody = z.looseObject({ id: z.string().min(1).max(256) });

/** `litellm_params` with the values of its secret keys (as config messages mask them) masked; numbers are prices or limits (`input_cost_per_token`), never secrets. */
function masked(litellmParams: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(litellmParams).map(([key, value]) => [key, isSecretName(key) && value != null && value !== '' && typeof value !== 'number' && typeof value !== 'boolean' ? MASKED_SECRET : value]),
  );
}

function modelView(record: StoredModelRecord, warnings: readonly string[] = []) {
  return {
    model_id: record.modelId,
    model_name: record.modelName,
    litellm_params: masked(record.litellmParams),
    model_info: { ...record.modelInfo, id: record.modelId, db_model: true },
    created_by: record.createdBy,
    updated_by: record.createdBy,
    created_at: new Date(record.createdAt).toISOString(),
    updated_at: new Date(record.updatedAt).toISOString(),
    ...(warnings.length > 0 && { warnings }),
  };
}

export const STORED_MODELS_NEED_A_SECRET = 'there is no master key or LITELLM_SALT_KEY to encrypt the stored models\' provider keys with';

function disabled(storeModelsInDb: boolean): InvalidRequestError {
  const why = storeModelsInDb
    ? `store_model_in_db is on, but ${STORED_MODELS_NEED_A_SECRET}: set one and restart.`
    : "To add, change and delete them through the API, set general_settings.store_model_in_db: true (or STORE_MODEL_IN_DB='True') and restart.";
  return new InvalidRequestError(`Models are read from the config file only. ${why}`, { code: 'store_model_in_db_disabled' });
}

function actorOf(request: FastifyRequest): string {
  const principal = principalOf(request);
  return principal.isMaster ? 'master_key' : (principal.keyId ?? 'unknown');
}

export const modelManagementRoutes: RouteModule = {
  name: 'model-management',
  register(app, services: AppServices) {
    const master = { config: { auth: 'master' as const } };
    const models = () => {
      if (services.storedModels === undefined) throw disabled(services.config.storeModelsInDb === true);
      return services.storedModels;
    };

    app.post('/model/new', master, async (request) => {
      const stored = models();
      const body = parseInput(newModelBody, request.body);
      const { record, warnings } = await stored.add({ model_name: body.model_name, litellm_params: body.litellm_params, ...(body.model_info != null && { model_info: body.model_info }) }, actorOf(request));
      return modelView(record, warnings);
    });

    app.post('/model/update', master, async (request) => {
      const stored = models();
      const body = parseInput(updateBody, request.body);
      const { record, warnings } = await stored.update(String(body.model_info.id), {
        ...(body.model_name != null && { model_name: body.model_name }),
        ...(body.litellm_params != null && { litellm_params: body.litellm_params }),
        model_info: body.model_info,
      });
      return modelView(record, warnings);
    });

    app.patch('/model/:modelId/update', master, async (request: FastifyRequest<{ Params: { modelId: string } }>) => {
      const stored = models();
      const body = parseInput(patchBody, request.body);
      const { record, warnings } = await stored.update(request.params.modelId, {
        ...(body.model_name != null && { model_name: body.model_name }),
        ...(body.litellm_params != null && { litellm_params: body.litellm_params }),
        ...(body.model_info != null && { model_info: body.model_info }),
      });
      return modelView(record, warnings);
    });

    app.post('/model/delete', master, async (request) => {
      const stored = models();
      const { id } = parseInput(deleteBody, request.body);
      await stored.remove(id);
      return { message: `Model: ${id} deleted successfully` };
    });
  },
};
