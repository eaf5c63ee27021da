/**
 * `model_list` entries -> frozen `Deployment`s: provider from the model prefix (or
 * `custom_llm_provider`), stable id, defaults from the router settings, provider validation.
 */
import type { Deployment, DeploymentPricing, Provider } from '../spec/provider.ts';
import { knownProviderNames, providerFor } from '../providers/registry.ts';
import { ConfigProblems } from './config-path.ts';
import { derivedDeploymentId } from './deployment-id.ts';
import type { Environment } from './environment-references.ts';
import type { ModelEntry } from './litellm-schema.ts';

export interface DeploymentDefaults {
  timeoutMs: number;
  maxRetries: number;
}

export interface ResolvedProvider {
  providerName: string;
  provider: Provider;
  upstreamModel: string;
}

function knownList(): string {
  return knownProviderNames().join(', ');
}

/**
 * The provider of an entry. `azure/x` is Azure by its prefix alone (issue 2: never needs
 * `custom_llm_provider`); `custom_llm_provider` overrides, and a known prefix is then still
 * stripped from the upstream model.
 */
export function resolveProvider(entry: ModelEntry, index: number, problems: ConfigProblems): ResolvedProvider | undefined {
  const model = entry.litellm_params.model;
  const slash = model.indexOf('/');
  const prefix = slash > 0 ? model.slice(0, slash) : undefined;
  const prefixProvider = prefix === undefined ? undefined : providerFor(prefix);
  const override = entry.litellm_params.custom_llm_provider ?? undefined;
  const path = ['model_list', index, 'litellm_params'];
  let providerName: string;
  if (override !== undefined) {
    if (!providerFor(override)) {
      problems.error([...path, 'custom_llm_provider'], `unknown provider "${override}" (known providers: ${knownList()})`);
      return undefined;
    }
    providerName = override;
  } else if (prefix !== undefined && prefixProvider) {
    providerName = prefix;
  } else if (prefix !== undefined) {
    problems.error([...path, 'model'], `unknown provider "${prefix}" (known providers: ${knownList()})`);
    return undefined;
  } else {
    problems.error(
      [...path, 'model'],
      `"${model}" has no provider prefix; write it as "<provider>/${model}", e.g. "openai/${model}" (known providers: ${knownList()})`,
    );
    return undefined;
  }
  const upstreamModel = prefixProvider ? model.slice(slash + 1) : model;
  if (upstreamModel.length === 0) {
    problems.error([...path, 'model'], `"${model}" names no model after the provider prefix`);
    return undefined;
  }
  return { providerName, provider: providerFor(providerName) as Provider, upstreamModel };
}

function fromEnvironment(names: readonly string[] | undefined, env: Environment): string | undefined {
  for (const name of names ?? []) {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

function pricingOf(entry: ModelEntry): DeploymentPricing {
  const info = entry.model_info ?? {};
  const params = entry.litellm_params;
  const pricing: DeploymentPricing = {};
  const input = info.input_cost_per_token ?? params.input_cost_per_token;
  const output = info.output_cost_per_token ?? params.output_cost_per_token;
  if (input != null) pricing.inputCostPerToken = input;
  if (output != null) pricing.outputCostPerToken = output;
  if (info.input_cost_per_token_batches != null) pricing.inputCostPerTokenBatches = info.input_cost_per_token_batches;
  if (info.output_cost_per_token_batches != null) pricing.outputCostPerTokenBatches = info.output_cost_per_token_batches;
  return pricing;
}

function optional(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === '' ? undefined : value;
}

export interface BuiltDeployments {
  deployments: Deployment[];
  /** Provider of each entry (undefined where it could not be resolved). */
  providers: Array<ResolvedProvider | undefined>;
}

export function buildDeployments(
  entries: readonly ModelEntry[],
  /** Position of each entry in `model_list` (entries that failed validation are left out). */
  entryIndexes: readonly number[],
  defaults: DeploymentDefaults,
  env: Environment,
  problems: ConfigProblems,
): BuiltDeployments {
  const deployments: Deployment[] = [];
  const providers: Array<ResolvedProvider | undefined> = [];
  const idsSeen = new Map<string, number>();
  entries.forEach((entry, position) => {
    const index = entryIndexes[position] ?? position;
    const resolved = resolveProvider(entry, index, problems);
    providers.push(resolved);
    if (!resolved) return;
    const params = entry.litellm_params;
    const envDefaults = resolved.provider.environmentDefaults?.(resolved.providerName) ?? {};
    const apiBase = optional(params.api_base) ?? fromEnvironment(envDefaults.apiBase, env);
    const apiKey = optional(params.api_key) ?? fromEnvironment(envDefaults.apiKey, env);
    const apiVersion = optional(params.api_version) ?? fromEnvironment(envDefaults.apiVersion, env);
    const explicitId = entry.model_info?.id ?? undefined;
    const id = explicitId ?? derivedDeploymentId(entry.model_name, params.model, apiBase);
    const deployment: Deployment = {
      id,
      modelGroup: entry.model_name,
      providerName: resolved.providerName,
      upstreamModel: resolved.upstreamModel,
      ...(apiBase !== undefined && { apiBase }),
      ...(apiKey !== undefined && { apiKey }),
      ...(apiVersion !== undefined && { apiVersion }),
      ...(params.rpm != null && { rpm: params.rpm }),
      ...(params.tpm != null && { tpm: params.tpm }),
      timeoutMs: params.timeout != null ? params.timeout * 1000 : defaults.timeoutMs,
      maxRetries: params.max_retries ?? defaults.maxRetries,
      weight: params.weight ?? 1,
      batchMode: params.batch_mode ?? resolved.provider.defaultBatchMode,
      ...(params.batch_concurrency != null && { batchConcurrency: params.batch_concurrency }),
      pricing: pricingOf(entry),
      params: { ...params },
    };
    const path = ['model_list', index];
    const previous = idsSeen.get(id);
    if (previous !== undefined) {
      problems.error(
        explicitId !== undefined ? [...path, 'model_info', 'id'] : path,
        explicitId !== undefined
          ? `deployment id "${id}" is also used by model_list[${previous}]`
          : `same model group, model and api_base as model_list[${previous}]; give each a distinct model_info.id`,
      );
    } else {
      idsSeen.set(id, index);
    }
    for (const message of resolved.provider.validate?.(deployment) ?? []) {
      const match = /^([a-z_]+): (.*)$/s.exec(message);
      if (match) problems.error([...path, 'litellm_params', match[1]], match[2]);
      else problems.error(path, message);
    }
    deployments.push(deployment);
  });
  return { deployments, providers };
}
