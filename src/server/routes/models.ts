/**
 * `GET /v1/models` and `GET /v1/models/{model}` (OpenAI's list and retrieve shapes), LiteLLM's
 * `GET /model/info` (one entry per deployment: `model_name`, `litellm_params`, `model_info`) and
 * `GET /model_group/info` (one entry per model group): only the model groups the caller's key may
 * use.
 */
import type { FastifyRequest } from 'fastify';
import { NotFoundError } from '../../spec/errors.ts';
import { configuredModelOf, type Deployment } from '../../spec/provider.ts';
import { singleValuedQuery } from '../parse-input.ts';
import { echoName, mayUse, usableModelGroups } from '../model-access.ts';
import { principalOf } from '../request-context.ts';
import type { AppServices, RouteModule } from '../services.ts';
import { withAndWithoutV1 } from './paths.ts';

interface OpenAIModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

function modelObject(id: string, services: AppServices): OpenAIModel {
  return { id, object: 'model', created: services.startedAt, owned_by: 'portico' };
}

/**
 * A deployment as LiteLLM's `/model/info` shows it, without a secret: of `litellm_params` only the
 * model and its limits (no API key, credentials or `api_base`, as `GET /deployments`), the prices
 * Portico charges with, and what the model can take (context window, `supports_*`), which coding
 * agents pointed at a LiteLLM proxy read from here.
 */
function deploymentInfo(deployment: Deployment, dbModel: boolean) {
  const pricing = deployment.pricing;
  return {
    model_name: deployment.modelGroup,
    litellm_params: {
      model: configuredModelOf(deployment),
      ...(deployment.rpm !== undefined && { rpm: deployment.rpm }),
      ...(deployment.tpm !== undefined && { tpm: deployment.tpm }),
    },
    model_info: {
      ...deployment.capabilities,
      id: deployment.id,
      db_model: dbModel,
      litellm_provider: deployment.providerName,
      input_cost_per_token: pricing.inputCostPerToken ?? null,
      output_cost_per_token: pricing.outputCostPerToken ?? null,
      input_cost_per_token_batches: pricing.inputCostPerTokenBatches ?? null,
      output_cost_per_token_batches: pricing.outputCostPerTokenBatches ?? null,
      cache_read_input_token_cost: pricing.cacheReadInputTokenCost ?? null,
      input_cost_per_query: pricing.inputCostPerQuery ?? null,
      input_cost_per_second: pricing.inputCostPerSecond ?? null,
      input_cost_per_character: pricing.inputCostPerCharacter ?? null,
      batch_mode: deployment.batchMode,
    },
  };
}

/**
 * A model group as LiteLLM's `/model_group/info` sums it up over its deployments: their providers,
 * the largest context window, output limit and prices, a `supports_*` flag any of them has, and
 * their rpm/tpm added up (null where a deployment has none).
 */
function modelGroupInfo(group: string, deployments: readonly Deployment[]) {
  const largest = (values: Array<number | undefined>) => {
    const known = values.filter((value): value is number => typeof value === 'number');
    return known.length === 0 ? null : Math.max(...known);
  };
  const total = (values: Array<number | undefined>) => (values.some((value) => value === undefined) ? null : values.reduce((sum: number, value) => sum + (value as number), 0));
  const numberOf = (deployment: Deployment, key: string) => {
    const value = deployment.capabilities?.[key];
    return typeof value === 'number' ? value : undefined;
  };
  const supports: Record<string, boolean> = {};
  for (const deployment of deployments) {
    for (const [key, value] of Object.entries(deployment.capabilities ?? {})) if (key.startsWith('supports_') && value === true) supports[key] = true;
  }
  return {
    model_group: group,
    providers: [...new Set(deployments.map((deployment) => deployment.providerName))],
    max_input_tokens: largest(deployments.map((deployment) => deployment.maxInputTokens ?? numberOf(deployment, 'max_input_tokens'))),
    max_output_tokens: largest(deployments.map((deployment) => numberOf(deployment, 'max_output_tokens'))),
    input_cost_per_token: largest(deployments.map((deployment) => deployment.pricing.inputCostPerToken)),
    output_cost_per_token: largest(deployments.map((deployment) => deployment.pricing.outputCostPerToken)),
    mode: deployments.map((deployment) => deployment.capabilities?.mode ?? deployment.mode).find((mode) => mode !== undefined) ?? null,
    tpm: total(deployments.map((deployment) => deployment.tpm)),
    rpm: total(deployments.map((deployment) => deployment.rpm)),
    supports_function_calling: false,
    supports_vision: false,
    ...supports,
  };
}

export const modelRoutes: RouteModule = {
  name: 'models',
  register(app, services) {
    // `?litellm_model_id=` narrows to one deployment (by its `model_info.id`).
    for (const url of withAndWithoutV1('/model/info')) {
      app.get(url, async (request) => {
        const wanted = singleValuedQuery(request.query).litellm_model_id;
        const principal = principalOf(request);
        const deployments = services.router
          .deployments()
          .filter((deployment) => (wanted === undefined || deployment.id === wanted) && mayUse(services.router, principal, deployment.modelGroup));
        return { data: deployments.map((deployment) => deploymentInfo(deployment, services.storedModels?.isStored(deployment.id) ?? false)) };
      });
    }
    // `?model_group=` narrows to one group.
    for (const url of withAndWithoutV1('/model_group/info')) {
      app.get(url, async (request) => {
        const wanted = singleValuedQuery(request.query).model_group;
        const principal = principalOf(request);
        const groups = services.router.modelGroups().filter((group) => (wanted === undefined || group === wanted) && mayUse(services.router, principal, group));
        return { data: groups.map((group) => modelGroupInfo(group, services.router.deploymentsOf(group))) };
      });
    }
    for (const url of withAndWithoutV1('/models')) {
      app.get(url, async (request) => ({
        object: 'list',
        data: usableModelGroups(services.router, principalOf(request)).map((id) => modelObject(id, services)),
      }));
      // Model group names may contain `/` (`openai/gpt-4o`), hence the wildcard.
      app.get(`${url}/*`, async (request: FastifyRequest<{ Params: { '*': string } }>) => {
        const id = request.params['*'];
        // Any name the caller could send is retrievable (a wildcard route serves more than it lists).
        if (!services.router.hasModelGroup(id) || !mayUse(services.router, principalOf(request), id)) {
          throw new NotFoundError(`The model \`${echoName(id)}\` does not exist or you do not have access to it.`, {
            param: 'model',
            code: 'model_not_found',
          });
        }
        return modelObject(id, services);
      });
    }
  },
};
