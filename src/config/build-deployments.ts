/**
 * `model_list` entries -> frozen `Deployment`s: provider from the model prefix (or
 * `custom_llm_provider`, or the model catalogue for a bare name, as LiteLLM infers it), stable
 * id, prices (`model_info`, else the catalogue), defaults from the router settings, provider
 * validation.
 */
import type { Deployment, DeploymentPricing, Provider } from '../spec/provider.ts';
import { knownProviderNames, providerFor } from '../providers/registry.ts';
import { type ConfigPath, ConfigProblems } from './config-path.ts';
import { derivedDeploymentId, fullIdentityDeploymentId } from './deployment-id.ts';
import type { Environment } from './environment-references.ts';
import { type ModelEntry, REQUEST_DEFAULT_KEYS } from './litellm-schema.ts';
import { type CatalogueModel, bareNameProvider, catalogueModel, catalogueModels, likelyProviderOf, vendorOfName } from './model-catalogue.ts';
import { ANY_MODEL } from './model-pattern.ts';
import { parseProviderSettings, settingsInput } from './provider-settings.ts';

export interface DeploymentDefaults {
  timeoutMs: number;
  /** `router_settings.stream_timeout`, for deployments without their own. */
  streamTimeoutMs?: number;
  /** `router_settings.default_max_parallel_requests`, for deployments without their own. */
  maxParallelRequests?: number;
  maxRetries: number;
  /** `litellm_settings.drop_params`. */
  dropParams?: boolean;
  /** `litellm_settings.drop_params` written as a list of names: dropped from every deployment's requests. */
  additionalDropParams?: readonly string[];
  /** `litellm_settings.modify_params`. */
  modifyParams?: boolean;
}

export interface ResolvedProvider {
  providerName: string;
  provider: Provider;
  upstreamModel: string;
  /** A bare name the catalogue does not know, placed by its family (`vendorOfName`): config loading warns. */
  placedByName?: true;
}

/** Why Portico cannot serve an entry (a provider it lacks, a name it cannot place). */
export interface UnusableEntry {
  path: ConfigPath;
  reason: string;
}

export type EntryTarget = ({ served: true } & ResolvedProvider) | ({ served: false } & UnusableEntry);

function knownList(): string {
  return knownProviderNames().join(', ');
}

function unsupported(path: ConfigPath, provider: string): { served: false } & UnusableEntry {
  return { served: false, path, reason: `provider "${provider}" is not supported by Portico (supported: ${knownList()})` };
}

/** The hint for a bare name the catalogue does not know: the prefix its family needs. */
function bareNameReason(model: string): string {
  const likely = likelyProviderOf(model);
  const base = `"${model}" is not in Portico's model catalogue, so its provider is unknown; write it as "<provider>/${model}"`;
  if (likely === undefined) return `${base} (supported providers: ${knownList()})`;
  if (!providerFor(likely)) return `${base}; it looks like a ${likely} model, a provider Portico does not support (supported: ${knownList()})`;
  return `${base}, e.g. "${likely}/${model}"`;
}

/** `rpm` / `tpm` of `litellm_params`, else of `model_info`, where LiteLLM's routing also reads them. */
function limitsOf(entry: ModelEntry): { rpm?: number; tpm?: number } {
  const rpm = entry.litellm_params.rpm ?? entry.model_info?.rpm ?? undefined;
  const tpm = entry.litellm_params.tpm ?? entry.model_info?.tpm ?? undefined;
  return { ...(rpm !== undefined && { rpm }), ...(tpm !== undefined && { tpm }) };
}

/** Names written as a list in `drop_params` (meant as `additional_drop_params`), warned about. */
function dropListOf(dropParams: boolean | readonly string[] | null | undefined, path: ConfigPath, problems: ConfigProblems): readonly string[] {
  if (!Array.isArray(dropParams)) return [];
  problems.warn(path, `a list: taken as additional_drop_params (these parameters are removed from every request to this deployment); drop_params itself is true or false`);
  return dropParams;
}

/** The warning for a bare name placed by its family: what was assumed, and what prices it. */
export function placedByNameWarning(model: string, providerName: string): string {
  return `"${model}" is not in Portico's model catalogue; placed on ${providerName} by its name, as LiteLLM places a name its current price list has (write "${providerName}/${model}" to say so); with no price in the catalogue, its spend is recorded at no cost unless model_info sets input_cost_per_token and output_cost_per_token`;
}

/**
 * The provider of an entry. `azure/x` is Azure by its prefix alone (issue 2: never needs
 * `custom_llm_provider`); `custom_llm_provider` overrides, and a known prefix is then still
 * stripped from the upstream model; a bare name is placed by the model catalogue, as LiteLLM
 * places it. Entries Portico cannot serve say why, and where.
 */
export function targetOf(params: TargetParams, index: number): EntryTarget {
  const model = params.model;
  const slash = model.indexOf('/');
  const prefix = slash > 0 ? model.slice(0, slash) : undefined;
  const prefixProvider = prefix === undefined ? undefined : providerFor(prefix);
  const override = params.custom_llm_provider ?? undefined;
  const path = ['model_list', index, 'litellm_params'];
  let providerName: string;
  if (override !== undefined) {
    if (!providerFor(override)) return unsupported([...path, 'custom_llm_provider'], override);
    providerName = override;
  } else if (prefix !== undefined && prefixProvider) {
    providerName = prefix;
  } else if (prefix !== undefined) {
    return unsupported([...path, 'model'], prefix);
  } else {
    const known = catalogueModel(model);
    const vendor = known === undefined ? vendorOfName(model) : undefined;
    if (known === undefined && (vendor === undefined || !providerFor(vendor))) return { served: false, path: [...path, 'model'], reason: bareNameReason(model) };
    providerName = bareNameProvider(known ?? { provider: vendor as string }, params);
    if (known === undefined) return { served: true, providerName, provider: providerFor(providerName) as Provider, upstreamModel: model, placedByName: true };
  }
  const upstreamModel = prefixProvider ? model.slice(slash + 1) : model;
  if (upstreamModel.length === 0) return { served: false, path: [...path, 'model'], reason: `"${model}" names no model after the provider prefix` };
  return { served: true, providerName, provider: providerFor(providerName) as Provider, upstreamModel };
}

/**
 * The providers an entry serves: one, except `model: "*"` (LiteLLM: any model, to the provider
 * its name implies), which serves each provider of the model catalogue that Portico has, the
 * router sending every requested name to the one it belongs to.
 */
/** What places an entry on a provider: its model, `custom_llm_provider`, and for some bare names another param (`bareNameProvider`). */
export type TargetParams = { readonly model: string; readonly custom_llm_provider?: string | null } & Readonly<Record<string, unknown>>;

export function targetsOf(params: TargetParams, index: number): EntryTarget[] {
  if (params.model !== ANY_MODEL || params.custom_llm_provider) return [targetOf(params, index)];
  // Bare names only: `vertex_ai/...` entries price deployments, they place no bare name.
  const providers = [...new Set(catalogueModels().filter((model) => !model.name.includes('/')).map((model) => model.provider))].filter((name) => providerFor(name));
  return providers.map((providerName) => ({ served: true, providerName, provider: providerFor(providerName) as Provider, upstreamModel: ANY_MODEL }));
}

function fromEnvironment(names: readonly string[] | undefined, env: Environment): string | undefined {
  for (const name of names ?? []) {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/**
 * The catalogue model a deployment runs: `model_info.base_model` when given (an Azure deployment
 * named `prod-4o` says `base_model: gpt-4o`), else its upstream model where the catalogue lists
 * it for the deployment's provider.
 */
export function catalogueModelOf(entry: ModelEntry, target: ResolvedProvider): CatalogueModel | undefined {
  const base = entry.model_info?.base_model;
  if (typeof base === 'string' && base.length > 0) return catalogueModel(base.slice(base.indexOf('/') + 1)) ?? catalogueModel(base);
  // A provider's own entry (`vertex_ai/gemini-2.5-flash`) first: the same model may cost another price there.
  const own = catalogueModel(`${target.providerName}/${target.upstreamModel}`);
  if (own !== undefined) return own;
  const known = catalogueModel(target.upstreamModel);
  return known?.provider === target.providerName ? known : undefined;
}

/** `model_info` prices, then `litellm_params`' (LiteLLM accepts both), then the catalogue's. */
function pricingOf(entry: ModelEntry, catalogue: CatalogueModel | undefined): DeploymentPricing {
  const info = entry.model_info ?? {};
  const params = entry.litellm_params;
  const pricing: DeploymentPricing = {};
  const input = info.input_cost_per_token ?? params.input_cost_per_token ?? catalogue?.inputCostPerToken;
  const output = info.output_cost_per_token ?? params.output_cost_per_token ?? catalogue?.outputCostPerToken;
  const configured = info.input_cost_per_token != null || params.input_cost_per_token != null || info.output_cost_per_token != null || params.output_cost_per_token != null;
  // Batch prices of the catalogue belong to its normal prices: configured normal prices without
  // batch prices get half of those (batch-cost.ts), not the catalogue's batch prices.
  const inputBatches = info.input_cost_per_token_batches ?? params.input_cost_per_token_batches ?? (configured ? undefined : catalogue?.inputCostPerTokenBatches);
  const outputBatches = info.output_cost_per_token_batches ?? params.output_cost_per_token_batches ?? (configured ? undefined : catalogue?.outputCostPerTokenBatches);
  if (input != null) pricing.inputCostPerToken = input;
  if (output != null) pricing.outputCostPerToken = output;
  if (inputBatches != null) pricing.inputCostPerTokenBatches = inputBatches;
  if (outputBatches != null) pricing.outputCostPerTokenBatches = outputBatches;
  const cacheRead = info.cache_read_input_token_cost ?? params.cache_read_input_token_cost ?? (configured ? undefined : catalogue?.cacheReadInputTokenCost);
  if (cacheRead != null) pricing.cacheReadInputTokenCost = cacheRead;
  const perQuery = info.input_cost_per_query ?? params.input_cost_per_query ?? catalogue?.inputCostPerQuery;
  if (perQuery != null) pricing.inputCostPerQuery = perQuery;
  const perSecond = info.input_cost_per_second ?? params.input_cost_per_second ?? (configured ? undefined : catalogue?.inputCostPerSecond);
  if (perSecond != null) pricing.inputCostPerSecond = perSecond;
  const perCharacter = info.input_cost_per_character ?? params.input_cost_per_character ?? (configured ? undefined : catalogue?.inputCostPerCharacter);
  if (perCharacter != null) pricing.inputCostPerCharacter = perCharacter;
  return pricing;
}

/**
 * `model_info.mode`, else an audio model's mode from the catalogue (whisper-1, tts-1): what the
 * deployment is health-checked with (`GET /health`), which a chat request would only fail.
 */
function modeOf(entry: ModelEntry, catalogue: CatalogueModel | undefined): { mode?: string } {
  const written = entry.model_info?.mode;
  if (typeof written === 'string') return { mode: written };
  return catalogue?.mode === 'audio_transcription' || catalogue?.mode === 'audio_speech' ? { mode: catalogue.mode } : {};
}

/** Keys of `model_info` that describe the model to clients (`/model/info`), kept as written. */
const DESCRIBING_KEYS = /^(max_tokens|max_input_tokens|max_output_tokens|mode|description|base_model|supports_[a-z_]+)$/;

/** The model's context window, mode and `supports_*` flags: the catalogue's, then the entry's own `model_info` (which win). */
function capabilitiesOf(entry: ModelEntry, catalogue: CatalogueModel | undefined): { capabilities?: Record<string, string | number | boolean> } {
  const capabilities: Record<string, string | number | boolean> = {};
  if (catalogue !== undefined) {
    if (catalogue.maxInputTokens !== undefined) capabilities.max_input_tokens = catalogue.maxInputTokens;
    if (catalogue.maxOutputTokens !== undefined) capabilities.max_output_tokens = catalogue.maxOutputTokens;
    // LiteLLM's legacy `max_tokens` is the output limit where the provider gives one.
    const maxTokens = catalogue.maxOutputTokens ?? catalogue.maxInputTokens;
    if (maxTokens !== undefined) capabilities.max_tokens = maxTokens;
    capabilities.mode = catalogue.mode;
    for (const flag of catalogue.supports ?? []) capabilities[`supports_${flag}`] = true;
  }
  for (const [key, value] of Object.entries(entry.model_info ?? {})) {
    if (DESCRIBING_KEYS.test(key) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) capabilities[key] = value;
  }
  return Object.keys(capabilities).length === 0 ? {} : { capabilities };
}

/** `model_info.max_input_tokens` (LiteLLM's), else the catalogue model's. */
function maxInputTokensOf(entry: ModelEntry, catalogue: CatalogueModel | undefined): { maxInputTokens?: number } {
  const written = entry.model_info?.max_input_tokens;
  const tokens = typeof written === 'number' && written > 0 ? written : catalogue?.maxInputTokens;
  return tokens === undefined ? {} : { maxInputTokens: tokens };
}

/** The deployment's request defaults: its `extra_body` fields, then the named parameters (which win). */
function requestDefaultsOf(params: ModelEntry['litellm_params']): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params.extra_body ?? {})) if (key !== '__proto__' && value !== undefined) defaults[key] = value;
  for (const key of REQUEST_DEFAULT_KEYS) if (params[key] != null) defaults[key] = params[key];
  return defaults;
}

function isHttpUrl(value: string): boolean {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}

function optional(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === '' ? undefined : value;
}

/** An entry to build: validated, with the provider that serves it. */
export interface ServedEntry {
  entry: ModelEntry;
  /** Position in `model_list`. */
  index: number;
  target: ResolvedProvider;
}

/**
 * `litellm_params` keys of entry `index` written as `os.environ/NAME` with NAME unset: key ->
 * NAME. A check that fails on such a key skips the entry instead of refusing the file.
 */
export type UnsetParams = (index: number) => ReadonlyMap<string, string>;

export function buildDeployments(served: readonly ServedEntry[], defaults: DeploymentDefaults, env: Environment, problems: ConfigProblems, unsetParams: UnsetParams = () => new Map()): Deployment[] {
  const deployments: Deployment[] = [];
  const explicitIds = new Map<string, number>();
  const derivedIds = new Set<string>();
  for (const { entry, index, target } of served) {
    const params = entry.litellm_params;
    const envDefaults = target.provider.environmentDefaults?.(target.providerName) ?? {};
    const apiBase = optional(params.api_base) ?? fromEnvironment(envDefaults.apiBase, env);
    const apiKey = optional(params.api_key) ?? fromEnvironment(envDefaults.apiKey, env);
    const apiVersion = optional(params.api_version) ?? fromEnvironment(envDefaults.apiVersion, env);
    const catalogue = catalogueModelOf(entry, target);
    const explicitId = entry.model_info?.id ?? undefined;
    const path = ['model_list', index];
    let id: string;
    if (explicitId !== undefined) {
      const previous = explicitIds.get(explicitId);
      if (previous !== undefined) problems.error([...path, 'model_info', 'id'], `deployment id "${explicitId}" is also used by model_list[${previous}]`);
      explicitIds.set(explicitId, index);
      id = explicitId;
    } else {
      // Model group, model and api_base name the deployment, so that rotating its key keeps its
      // files and batches; entries alike in those (several keys for one endpoint, as LiteLLM
      // allows) are told apart by everything else they say.
      id = derivedDeploymentId(entry.model_name, params.model, apiBase);
      for (let occurrence = 0; derivedIds.has(id); occurrence += 1) id = fullIdentityDeploymentId(entry.model_name, params, occurrence);
      derivedIds.add(id);
    }
    const deployment: Deployment = {
      id,
      modelGroup: entry.model_name,
      ...modeOf(entry, catalogue),
      providerName: target.providerName,
      upstreamModel: target.upstreamModel,
      ...(apiBase !== undefined && { apiBase }),
      ...(apiKey !== undefined && { apiKey }),
      ...(apiVersion !== undefined && { apiVersion }),
      ...limitsOf(entry),
      ...(params.tags != null && params.tags.length > 0 && { tags: params.tags }),
      ...((params.max_parallel_requests ?? defaults.maxParallelRequests) != null && { maxParallelRequests: params.max_parallel_requests ?? defaults.maxParallelRequests }),
      timeoutMs: params.timeout != null ? params.timeout * 1000 : defaults.timeoutMs,
      maxRetries: params.max_retries ?? params.num_retries ?? defaults.maxRetries,
      weight: params.weight ?? 1,
      ...(params.order != null && { order: params.order }),
      ...(params.cooldown_time != null && { cooldownMs: params.cooldown_time * 1000 }),
      batchMode: params.batch_mode ?? target.provider.defaultBatchMode,
      ...(params.batch_concurrency != null && { batchConcurrency: params.batch_concurrency }),
      ...(params.batch_max_enqueued_tokens != null && { batchMaxEnqueuedTokens: params.batch_max_enqueued_tokens }),
      pricing: pricingOf(entry, catalogue),
      ...maxInputTokensOf(entry, catalogue),
      ...capabilitiesOf(entry, catalogue),
      ...(entry.model_info?.access_groups != null && entry.model_info.access_groups.length > 0 && { accessGroups: [...new Set(entry.model_info.access_groups)] }),
      ...(params.stream_timeout != null ? { streamTimeoutMs: params.stream_timeout * 1000 } : defaults.streamTimeoutMs !== undefined && { streamTimeoutMs: defaults.streamTimeoutMs }),
      dropParams: (typeof params.drop_params === 'boolean' ? params.drop_params : undefined) ?? defaults.dropParams ?? false,
      additionalDropParams: [...new Set([...(params.additional_drop_params ?? []), ...dropListOf(params.drop_params, [...path, 'litellm_params', 'drop_params'], problems), ...(defaults.additionalDropParams ?? [])])],
      modifyParams: params.modify_params ?? defaults.modifyParams ?? false,
      requestDefaults: requestDefaultsOf(params),
      params: { ...params },
      settings: undefined,
    };
    // The entry's own problems, by path: those on a value from an unset variable skip the entry.
    const own: Array<{ path: ConfigPath; message: string }> = [];
    const ownProblems = { error: (at: ConfigPath, message: string) => own.push({ path: at, message }) };
    // The provider's typed settings: its schema over these params, issues at their path.
    const settings = parseProviderSettings(target.provider, settingsInput(target.provider, params, deployment, env), path, ownProblems);
    if (settings.ok) {
      (deployment as { settings: unknown }).settings = settings.settings;
      for (const message of target.provider.validate?.(deployment, settings.settings) ?? []) {
        const match = /^([a-z_]+): (.*)$/s.exec(message);
        if (match) ownProblems.error([...path, 'litellm_params', match[1]], match[2]);
        else ownProblems.error(path, message);
      }
      for (const message of target.provider.warnings?.(deployment, settings.settings) ?? []) {
        const match = /^([a-z_]+): (.*)$/s.exec(message);
        problems.warn(match ? [...path, 'litellm_params', match[1]] : path, match ? match[2] : message);
      }
    }
    /** The `litellm_params` key a problem is about, if it is about one. */
    const paramOf = (at: ConfigPath): string | undefined => (at.length > path.length + 1 && at[path.length] === 'litellm_params' ? String(at[path.length + 1]) : undefined);
    // Every provider calls its api_base over HTTP. A placeholder left in (`your_ollama_api_base`
    // in LiteLLM's own docs, a shell-style `${OLLAMA_BASE_URL}` that nothing expands) starts, as in
    // LiteLLM, and fails its calls: said once here rather than only in each failed call.
    if (apiBase !== undefined && !isHttpUrl(apiBase) && !own.some((problem) => paramOf(problem.path) === 'api_base')) {
      problems.warn([...path, 'litellm_params', 'api_base'], `"${apiBase}" is not an http(s) URL${apiBase.includes('${') ? ' (a shell-style variable: nothing expands it, write os.environ/NAME)' : ' (a placeholder left in?)'}; calls to this deployment fail until it is one`);
    }
    if (own.length === 0) {
      deployments.push(deployment);
      continue;
    }
    // A value the entry cannot do without (an Azure endpoint, say) that comes from an unset
    // variable: LiteLLM starts and fails the entry's calls; Portico leaves the entry out, saying so.
    const unset = unsetParams(index);
    for (const problem of own) {
      const param = paramOf(problem.path);
      const variable = param === undefined ? undefined : unset.get(param);
      if (variable === undefined) problems.error(problem.path, problem.message);
      else problems.warn(problem.path, `${problem.message.replace(/\.?$/, '')}; entry "${entry.model_name}" skipped until ${variable} is set`);
    }
  }
  return deployments;
}
