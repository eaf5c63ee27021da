/**
 * LiteLLM-format YAML + the environment -> a frozen `PorticoConfig`. Errors stop start-up with
 * one `ConfigError` listing every problem by path; unknown keys become `warnings`.
 */
import { parseDurationMs } from '../auth/duration.ts';
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { ConfigError } from '../spec/errors.ts';
import type { z } from 'zod';
import { type ConfigPath, ConfigProblems, formatConfigPath } from './config-path.ts';
import { parseDatabaseUrl } from '../storage/database.ts';
import { credentialsOf, withCredential } from './credentials.ts';
import { ROUTING_STRATEGIES, type RoutingStrategyName } from '../routing/strategies/index.ts';
import type { AllowedFailsPolicy, RetryPolicy } from '../routing/retry-policy.ts';
import { type ServedEntry, type TargetParams, buildDeployments, placedByNameWarning, targetsOf } from './build-deployments.ts';
import { isModelPattern, matchesModelPattern } from './model-pattern.ts';
import { deepFreeze } from './deep-freeze.ts';
import { isSecretName } from './secret-redactor.ts';
import { type Environment, type EnvironmentReference, type MissingReference, describeMissing, resolveEnvironmentReferences } from './environment-references.ts';
import { type ConfigFile, configFileSchema, modelEntrySchema } from './litellm-schema.ts';
import { accountNameOf } from '../storage/azure-account.ts';
import { WEBHOOK_EVENT_TYPES, type AzureBlobSettings, type BatchSettings, type DatabaseSettings, type FilesSettings, type PorticoConfig, type ProxyBudgetConfig, type ResponseCacheConfig, type RouterSettings, type S3BlobSettings, type ServerSettings, type SpendLogSettings, type WebhookEndpoint, type WebhookEventType, type WebhookSettings } from './types.ts';
import { type EntryUse, isUsedPath, warnUnknownKeys } from './unknown-keys.ts';
import { ipAllowlist } from '../auth/ip-allowlist.ts';
import { DEFAULT_CACHED_CALL_TYPES } from '../caching/response-cache.ts';
import { providerParamKeys } from './provider-settings.ts';
import { readFileSync } from 'node:fs';
import type { UpstreamConnection, UpstreamTls } from '../providers/http/agent.ts';
import { ALERT_TYPES, type AlertType, type SlackAlertSettings } from '../observability/slack-alerts.ts';
import type { TraceExport } from '../observability/tracing.ts';

const MB = 1024 * 1024;

/** Defaults: LiteLLM's router defaults; file limits as OpenAI's (WIRE.md §1.1, §1.2). */
export const CONFIG_DEFAULTS = Object.freeze({
  timeoutSeconds: 600,
  numRetries: 2,
  allowedFails: 3,
  /** LiteLLM's `Router.max_fallbacks` default. */
  maxFallbacks: 5,
  cooldownSeconds: 5,
  files: Object.freeze({
    blobStore: 'directory' as const,
    storageDir: './data/files',
    maxFileBytes: 512 * MB,
    maxBatchFileBytes: 200 * MB,
    maxBatchFileLines: 50_000,
    // A request with a ~15 MB image as base64 fits; validating a line holds a few copies of it,
    // so this (times max_concurrent_uploads) bounds what uploads may take in memory.
    maxBatchLineBytes: 20 * MB,
    maxConcurrentUploads: 8,
    maxConcurrentUploadsPerKey: 4,
    batchFileDefaultExpirySeconds: 30 * 24 * 60 * 60,
    deleteRetryBaseSeconds: 5,
    // Memory per upload in flight: about (queue size + 2) x part size on S3 (20 MiB), about
    // (concurrency + 1) x block size on Azure (12 MiB).
    s3: Object.freeze({ partBytes: 5 * MB, queueSize: 2 }),
    azureBlob: Object.freeze({ blockBytes: 4 * MB, concurrency: 2 }),
  }),
  // Small, frequent group commits keep the memory of a busy gateway low (spend/spend-ledger.ts).
  spendLogs: Object.freeze({ flushIntervalMs: 20 }),
  // Retries at 5 s, 10 s, 20 s, ... up to an hour apart, for a day.
  webhooks: Object.freeze({ retryFirstSeconds: 5, retryMaxSeconds: 3600, giveUpAfterHours: 24, timeoutSeconds: 10, pollIntervalMs: 1000 }),
  batch: Object.freeze({
    refreshAfterSeconds: 2,
    pollIntervalMs: 1000,
    liveTrafficShare: 0.2,
    estimatedOutputTokens: 1000,
    quotaExceeded: 'refuse' as const,
  }),
  // A slow client costs a connection for at most about this long, whatever it sends.
  server: Object.freeze({
    /** LiteLLM's `health_check_interval` default, seconds. */
    healthCheckIntervalSeconds: 300,
    headersTimeoutSeconds: 30,
    bodyTimeoutSeconds: 30,
    bodyMinBytesPerSecond: 1024,
    maxConnections: 10_000,
  }),
  // Far above any query of the request path, well below a client's patience.
  database: Object.freeze({
    queryTimeoutSeconds: 30,
  }),
});

export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<PorticoConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String((error as { code: unknown }).code) : String(error);
    throw new ConfigError(`cannot read config file ${path}: ${reason}`);
  }
  try {
    return parseConfig(text, env);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`invalid config file ${path}:\n${error.message}`);
    throw error;
  }
}

/** A key written twice in one mapping: the later value is used. */
interface DuplicateKey {
  path: ConfigPath;
  firstLine: number;
  line: number;
}

/**
 * YAML 1.1, as PyYAML (LiteLLM) reads it: `tpm: 20_000` is 20000 and `yes` is true. Dates stay
 * the text they were written as (`api_version: 2024-10-21`), as LiteLLM passes them on. PyYAML
 * also takes a key written twice in one mapping (a second `litellm_settings:` further down, say)
 * and keeps the later value, where the `yaml` package would refuse the file: loaded the same way
 * here, each such key answered with a warning naming both lines.
 */
function parseYaml(text: string): { value: unknown; duplicates: DuplicateKey[]; masterKeyNull: boolean } {
  const lineCounter = new YAML.LineCounter();
  const document = YAML.parseDocument(text, { prettyErrors: true, version: '1.1', uniqueKeys: false, lineCounter });
  if (document.errors.length > 0) {
    throw new ConfigError(document.errors.map((error) => `YAML: ${error.message}`).join('\n'));
  }
  const duplicates: DuplicateKey[] = [];
  collectDuplicateKeys(document.contents, [], (node) => lineCounter.linePos(node.range?.[0] ?? 0).line, duplicates);
  const value = datesAsText(document.toJS() ?? {});
  const masterKeyNull = explicitlyNull(document.getIn(MASTER_KEY_PATH, true)) && (value as { general_settings?: { master_key?: unknown } }).general_settings?.master_key === null;
  if (masterKeyNull) delete (value as { general_settings: Record<string, unknown> }).general_settings.master_key;
  return { value, duplicates, masterKeyNull };
}

const MASTER_KEY_PATH = ['general_settings', 'master_key'] as const;

/**
 * `master_key: null` (or `~`) written out: no master key, the gateway open, as LiteLLM runs it
 * (seen in real configs, with "no auth for now" beside it). A value left empty (`master_key:`)
 * is not this: it may be a secret forgotten, and is refused (`litellm-schema.ts`).
 */
function explicitlyNull(node: unknown): boolean {
  return YAML.isScalar(node) && node.value === null && /^(null|Null|NULL|~)$/.test(node.source ?? '');
}

function collectDuplicateKeys(node: unknown, path: ConfigPath, lineOf: (node: { range?: readonly number[] | null }) => number, out: DuplicateKey[]): void {
  if (YAML.isMap(node)) {
    const firstLines = new Map<string, number>();
    for (const pair of node.items) {
      const key = YAML.isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key !== undefined && key !== '<<') {
        const line = lineOf(pair.key as YAML.Scalar);
        const first = firstLines.get(key);
        if (first === undefined) firstLines.set(key, line);
        else out.push({ path: [...path, key], firstLine: first, line });
      }
      collectDuplicateKeys(pair.value, key === undefined ? path : [...path, key], lineOf, out);
    }
  } else if (YAML.isSeq(node)) {
    node.items.forEach((item, index) => collectDuplicateKeys(item, [...path, index], lineOf, out));
  }
}

function datesAsText(value: unknown): unknown {
  if (value instanceof Date) {
    const iso = value.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
  }
  if (Array.isArray(value)) return value.map(datesAsText);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, datesAsText(item)]));
  return value;
}

/** `environment_variables:` (LiteLLM) fill in for variables the process does not have. */
function environmentWith(raw: unknown, env: Environment): Environment {
  if (raw === null || typeof raw !== 'object') return env;
  const section = (raw as { environment_variables?: unknown }).environment_variables;
  if (section === null || typeof section !== 'object' || Array.isArray(section)) return env;
  const merged: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(section)) {
    if (typeof value === 'string' || typeof value === 'number') merged[name] = String(value);
  }
  return { ...merged, ...env };
}

/** `litellm_params.model` and `custom_llm_provider` of an entry not validated yet, when usable. */
function targetParamsOf(rawEntry: unknown): TargetParams | undefined {
  if (rawEntry === null || typeof rawEntry !== 'object') return undefined;
  const params = (rawEntry as { litellm_params?: unknown }).litellm_params;
  if (params === null || typeof params !== 'object') return undefined;
  const { model, custom_llm_provider: override, ...rest } = params as Record<string, unknown>;
  if (typeof model !== 'string' || model.length === 0) return undefined;
  return { ...rest, model, ...(typeof override === 'string' && override.length > 0 && { custom_llm_provider: override }) };
}

export function parseConfig(text: string, env: Environment = process.env): PorticoConfig {
  const { value: raw, duplicates, masterKeyNull } = parseYaml(text);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('(root): the config file must be a YAML mapping (model_list:, general_settings:, ...)');
  }
  const source = structuredClone(raw) as Record<string, unknown>;
  const config = configOf(raw as Record<string, unknown>, duplicates, masterKeyNull, env);
  SOURCES.set(config, source);
  return config;
}

/** The file each config was read from, as parsed (before `os.environ/` references): for `entriesUnderConfig`. */
const SOURCES = new WeakMap<PorticoConfig, Readonly<Record<string, unknown>>>();

/**
 * The deployments `entries` (model_list entries, as `/model/new` takes them) make under the
 * settings of `config`'s file (its router defaults, `credential_list`, `drop_params`, ...), read
 * exactly as they would be in its `model_list`: a ConfigError names what is wrong with them.
 * `warnings`: what loading them warned about.
 */
export function entriesUnderConfig(config: PorticoConfig, entries: readonly unknown[], env: Environment = process.env): { deployments: PorticoConfig['deployments']; warnings: readonly string[] } {
  const source = SOURCES.get(config) ?? {};
  const parsed = configOf({ ...structuredClone(source), model_list: [...entries] } as Record<string, unknown>, [], false, env);
  return { deployments: parsed.deployments, warnings: parsed.warnings.filter((warning) => warning.startsWith('model_list[')) };
}

function configOf(raw: Record<string, unknown>, duplicates: readonly DuplicateKey[], masterKeyNull: boolean, env: Environment): PorticoConfig {
  const problems = new ConfigProblems();
  if (masterKeyNull) problems.warn([...MASTER_KEY_PATH], 'null: no master key, so the gateway runs open, without auth, as LiteLLM runs it; anyone who reaches it can call every model and admin route');
  for (const duplicate of duplicates) {
    problems.warn(duplicate.path, `written twice in one mapping (lines ${duplicate.firstLine} and ${duplicate.line}); the later one is used, as LiteLLM's YAML loader does, and the earlier one ignored`);
  }
  const environment = environmentWith(raw, env);
  const references: EnvironmentReference[] = [];
  const resolved = resolveEnvironmentReferences(raw, environment, references);
  const missing = references.filter((reference) => !reference.resolved);
  const missingByPath = new Map(missing.map((reference) => [formatConfigPath(reference.path), reference]));
  const reported = new Set<string>();

  const parsed = configFileSchema.safeParse(resolved);
  if (!parsed.success) {
    reportIssues(parsed.error.issues, resolved, [], missingByPath, reported, problems);
    throw new ConfigError(problems.errors.join('\n'));
  }
  const file = parsed.data;
  const strict = file.portico_settings?.strict_config === true;
  const router = routerSettingsOf(file, problems);
  const modelList = file.model_list ?? [];
  const served: ServedEntry[] = [];
  const unusable: string[] = [];
  const unusableIndexes = new Set<number>();
  const credentials = credentialsOf(file, problems);
  for (const { entry: listedEntry, index } of withOrganizationsExpanded(modelList)) {
    const rawEntry = withCredential(listedEntry, index, credentials, problems);
    const params = targetParamsOf(rawEntry);
    // A model named by an unset variable: the entry cannot be placed, and is skipped like an
    // entry for a provider Portico lacks (the others still load).
    const unsetModel = missingByPath.get(formatConfigPath(['model_list', index, 'litellm_params', 'model']));
    const target =
      params !== undefined ? targetsOf(params, index)[0] : unsetModel === undefined ? undefined : { served: false as const, path: ['model_list', index, 'litellm_params', 'model'], reason: describeMissing(unsetModel) };
    if (unsetModel !== undefined) reported.add(formatConfigPath(['model_list', index, 'litellm_params', 'model']));
    if (target !== undefined && !target.served) {
      // LiteLLM starts with entries it could not call; Portico skips them, saying so (once per entry).
      if (unusableIndexes.has(index)) continue;
      unusableIndexes.add(index);
      const group = (rawEntry as { model_name?: unknown }).model_name;
      unusable.push(`${formatConfigPath(target.path)}: ${target.reason}`);
      if (strict) problems.error(target.path, `${target.reason} (portico_settings.strict_config is on)`);
      else problems.warn(target.path, `${target.reason}; entry${typeof group === 'string' ? ` "${group}"` : ''} skipped`);
      continue;
    }
    const entry = modelEntrySchema.safeParse(target === undefined ? rawEntry : withUnusedReferencesAsWritten(rawEntry, index, providerParamKeys(target.provider), references));
    if (!entry.success) {
      reportIssues(entry.error.issues, rawEntry, ['model_list', index], missingByPath, reported, problems);
      continue;
    }
    for (const validTarget of targetsOf(entry.data.litellm_params, index)) {
      if (!validTarget.served) continue;
      served.push({ entry: entry.data, index, target: validTarget });
      if (validTarget.placedByName) problems.warn(['model_list', index, 'litellm_params', 'model'], placedByNameWarning(entry.data.litellm_params.model, validTarget.providerName));
    }
  }
  if (modelList.length === 0) problems.warn(['model_list'], 'no models configured: every model request will be a 404');
  else if (served.length === 0 && unusableIndexes.size === modelList.length && !strict) {
    problems.error(['model_list'], `Portico can serve none of its ${modelList.length} entries:\n  ${unusable.join('\n  ')}`);
  }
  const deployments = buildDeployments(
    served,
    {
      timeoutMs: router.timeoutMs,
      maxRetries: router.numRetries,
      ...(file.router_settings?.stream_timeout != null && { streamTimeoutMs: file.router_settings.stream_timeout * 1000 }),
      ...(file.router_settings?.default_max_parallel_requests != null && { maxParallelRequests: file.router_settings.default_max_parallel_requests }),
      dropParams: typeof file.litellm_settings?.drop_params === 'boolean' ? file.litellm_settings.drop_params : undefined,
      additionalDropParams: globalDropList(file, problems),
      modifyParams: file.litellm_settings?.modify_params ?? undefined,
    },
    environment,
    problems,
    (index) => new Map(missing.filter(({ path }) => path[0] === 'model_list' && path[1] === index && path[2] === 'litellm_params' && path.length === 4).map(({ path, name }) => [String(path[3]), name])),
  );
  checkFallbacks(router, new Set(served.map(({ entry }) => entry.model_name)), new Set(deployments.map((deployment) => deployment.id)), problems);
  checkAliases(router, new Set(served.map(({ entry }) => entry.model_name)), problems);
  const servedByIndex = new Map(served.map((item) => [item.index, item]));
  const use: EntryUse = {
    isServed: (index) => servedByIndex.has(index),
    providerParamKeys: (index) => {
      const item = servedByIndex.get(index);
      return item === undefined ? [] : providerParamKeys(item.target.provider);
    },
  };
  reportMissingReferences(missing, use, reported, problems);
  warnUnknownKeys(resolved, use, problems);
  const databaseUrl = databaseUrlOf(file, problems);
  const redisUrl = redisUrlOf(file, problems);
  const files = filesSettingsOf(file, problems);
  const configuredWebhooks = webhookSettingsOf(file, problems);
  const spendLogs = spendLogSettingsOf(file, problems);
  const server = serverSettingsOf(file, problems);
  const responseCache = responseCacheOf(file, environment, problems);
  const proxyBudget = proxyBudgetOf(file, spendLogs, problems);
  const upstreamConnection = upstreamConnectionOf(file, problems);
  const alerting = slackAlertsOf(file, environment, problems);
  const callbacks = callbacksOf(file, environment, problems);
  const slackAlerts = alerting?.settings;
  const webhooks = withSlackBudgetAlerts(configuredWebhooks, alerting?.budgetUrls ?? [], problems);
  if (file.litellm_settings?.turn_off_message_logging === false) {
    problems.warn(['litellm_settings', 'turn_off_message_logging'], 'false: Portico never puts prompts or answers in its logs, traces or spend rows');
  }
  for (const section of ['general_settings', 'litellm_settings'] as const) {
    if (file[section]?.json_logs === false) problems.warn([section, 'json_logs'], "false: Portico's logs are JSON lines whatever it says");
  }
  if (problems.errors.length > 0) throw new ConfigError(problems.errors.join('\n'));

  const config: PorticoConfig = {
    deployments,
    masterKey: file.general_settings?.master_key ?? undefined,
    databaseUrl,
    redisUrl,
    router,
    files,
    batch: batchSettingsOf(file),
    server,
    database: databaseSettingsOf(file, problems),
    webhooks,
    otelCallback: callbacks.otel,
    prometheusCallback: callbacks.prometheus,
    ...(file.litellm_settings?.max_end_user_budget != null && { maxEndUserBudget: file.litellm_settings.max_end_user_budget }),
    ...(file.litellm_settings?.enable_end_user_cost_tracking_prometheus_only === true && { prometheusEndUsers: true }),
    ...(file.litellm_settings?.require_auth_for_metrics_endpoint === false && { metricsPublic: true }),
    ...(callbacks.langfuse !== undefined && { langfuseTraces: callbacks.langfuse }),
    redactKeyInfo: file.litellm_settings?.redact_user_api_key_info === true,
    ...(file.litellm_settings?.extra_spend_tag_headers != null && file.litellm_settings.extra_spend_tag_headers.length > 0 && { spendTagHeaders: file.litellm_settings.extra_spend_tag_headers }),
    ...(file.portico_settings?.stored_models_poll_seconds != null && { storedModelsPollMs: file.portico_settings.stored_models_poll_seconds * 1000 }),
    ...((file.general_settings?.store_model_in_db ?? /^true$/i.test(environment.STORE_MODEL_IN_DB ?? '')) === true && { storeModelsInDb: true as const }),
    ...responseCache,
    ...(proxyBudget !== undefined && { proxyBudget }),
    ...(upstreamConnection !== undefined && { upstreamConnection }),
    ...(slackAlerts !== undefined && { slackAlerts }),
    ...userHeaderOf(file, problems),
    ...(file.litellm_settings?.set_verbose === true && { logLevel: 'debug' as const }),
    forwardClientHeaders: file.general_settings?.forward_client_headers_to_llm_api === true,
    spendLogs,
    workers: file.portico_settings?.workers ?? undefined,
    keyCacheTtlMs: file.general_settings?.user_api_key_cache_ttl == null ? undefined : file.general_settings.user_api_key_cache_ttl * 1000,
    warnings: problems.warnings,
  };
  return deepFreeze(config);
}

/**
 * An entry with the `os.environ/` references Portico does not read put back as written: only what
 * Portico needs is resolved (a Vertex credential of an OpenAI entry, say, never enters its
 * deployment's params).
 */
function withUnusedReferencesAsWritten(rawEntry: unknown, index: number, paramKeys: readonly string[], references: readonly EnvironmentReference[]): unknown {
  const use: EntryUse = { isServed: () => true, providerParamKeys: () => paramKeys };
  const unused = references.filter((reference) => reference.path[0] === 'model_list' && reference.path[1] === index && reference.resolved && !isUsedPath(reference.path, use));
  if (unused.length === 0) return rawEntry;
  const copy = structuredClone(rawEntry) as Record<string, unknown>;
  for (const reference of unused) {
    let container: unknown = copy;
    const inner = reference.path.slice(2);
    for (const segment of inner.slice(0, -1)) container = container !== null && typeof container === 'object' ? (container as Record<string | number, unknown>)[segment] : undefined;
    if (container !== null && typeof container === 'object') (container as Record<string | number, unknown>)[inner[inner.length - 1]] = reference.reference;
  }
  return copy;
}

/**
 * Where an unset variable refuses the start: the master key (LiteLLM would serve without one, but a
 * gateway meant to have one must not open because a secret was not mounted) and Portico's own
 * settings (not LiteLLM's: nothing to be a drop-in for).
 */
function requiredReference(path: ConfigPath): boolean {
  return path[0] === 'portico_settings' || (path[0] === 'general_settings' && path[1] === 'master_key');
}

/**
 * Unset `os.environ/` references. Where Portico does not read the value: a warning (LiteLLM files
 * name variables for callbacks, caches, vaults Portico does not have). Where it does, in a
 * deployment, a credential, the router's, LiteLLM's or the general settings: a warning too, the
 * value taken as not set, as LiteLLM does (it starts, and a call that needed the key fails at the
 * upstream; an unset `database_url` is the default database); a model named by an unset variable
 * skips its entry (`parseConfig`, like a provider Portico lacks), so does an Azure endpoint
 * (`buildDeployments`). The master key and `portico_settings`: an error (`requiredReference`).
 */
function reportMissingReferences(missing: readonly MissingReference[], use: EntryUse, reported: ReadonlySet<string>, problems: ConfigProblems): void {
  for (const reference of missing) {
    if (reported.has(formatConfigPath(reference.path))) continue;
    if (!isUsedPath(reference.path, use)) problems.warn(reference.path, `${describeMissing(reference)}; not used by Portico, left unresolved`);
    else if (requiredReference(reference.path)) problems.error(reference.path, describeMissing(reference));
    else problems.warn(reference.path, `${describeMissing(reference)}; taken as not set, as LiteLLM does (calls that need it fail until it is set)`);
  }
}

/** A URL's password as `****`, for messages. */
function maskedUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1****@');
}

/**
 * `database_url` as the database layer reads it, checked here so that a placeholder
 * (`postgresql://<user>:<password>@<host>/<db>`) names its key instead of failing at start.
 */
function databaseUrlOf(file: ConfigFile, problems: ConfigProblems): string | undefined {
  const value = file.general_settings?.database_url || undefined;
  if (value === undefined) return undefined;
  const path = ['general_settings', 'database_url'];
  try {
    const location = parseDatabaseUrl(value);
    if (location.dialect === 'postgres') new URL(location.url);
  } catch (error) {
    const reason = error instanceof ConfigError ? error.message.replace(/^[^.]*\. /, '') : 'not a valid URL (a placeholder left in?)';
    problems.error(path, `"${maskedUrl(value)}": ${reason}`);
  }
  return value;
}

/**
 * LiteLLM names its Redis in `router_settings`, as a URL or as host, port and password (each
 * often `os.environ/REDIS_HOST`, ...): one URL either way.
 */
function redisUrlOf(file: ConfigFile, problems: ConfigProblems): string | undefined {
  const router = file.router_settings;
  if (router?.redis_url) {
    if (!URL.canParse(router.redis_url) || !/^rediss?:$/.test(new URL(router.redis_url).protocol)) {
      problems.error(['router_settings', 'redis_url'], `"${maskedUrl(router.redis_url)}" is not a redis:// or rediss:// URL (a placeholder left in?)`);
    }
    return router.redis_url;
  }
  if (!router?.redis_host) return undefined;
  return redisUrlFrom({ host: router.redis_host, port: router.redis_port, password: router.redis_password }, ['router_settings', 'redis_'], problems);
}

/**
 * LiteLLM's host, port (default 6379) and password of a Redis as one URL; a value that cannot be
 * one is an error at `<pathPrefix>host` / `<pathPrefix>port` (`redis_host`, `cache_params.host`).
 */
function redisUrlFrom(parts: { host: string; port?: string | null; password?: string | null }, pathPrefix: readonly [...string[], string], problems: ConfigProblems): string {
  const at = (name: string): ConfigPath => [...pathPrefix.slice(0, -1), `${pathPrefix[pathPrefix.length - 1]}${name}`];
  const port = parts.port || '6379';
  if (!/^\d{1,5}$/.test(port)) problems.error(at('port'), `"${port}" is not a port number`);
  const password = parts.password ? `:${encodeURIComponent(parts.password)}@` : '';
  const host = parts.host.includes(':') ? `[${parts.host}]` : parts.host;
  const url = `redis://${password}${host}:${port}`;
  if (!URL.canParse(url) || /[<>{}\s]/.test(parts.host)) problems.error(at('host'), `"${parts.host}" is not a host name or address (a placeholder left in?)`);
  return url;
}

/** zod issues as `path: message`; a value missing for an unset variable says so instead. */
function reportIssues(
  issues: readonly z.core.$ZodIssue[],
  root: unknown,
  prefix: ConfigPath,
  missing: ReadonlyMap<string, MissingReference>,
  reported: Set<string>,
  problems: ConfigProblems,
): void {
  for (const issue of issues) {
    const relative = issue.path as Array<string | number>;
    const path = [...prefix, ...relative];
    const key = formatConfigPath(path);
    const reference = missing.get(key);
    if (reported.has(key) && reference) continue;
    reported.add(key);
    problems.error(path, reference ? describeMissing(reference) : `${issue.message}${describeValue(path, valueAt(root, relative))}`);
  }
}

function valueAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let value = root;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

const MAX_SHOWN_VALUE = 80;

/** ` (value: "lots")` for a message about the value at `path`; secrets masked, long values cut. */
function describeValue(path: ConfigPath, value: unknown): string {
  if (value === undefined || (value !== null && typeof value === 'object')) return '';
  const last = path.at(-1);
  if (typeof last === 'string' && isSecretName(last)) return ' (value: "****")';
  const shown = JSON.stringify(value) ?? String(value);
  return ` (value: ${shown.length > MAX_SHOWN_VALUE ? `${shown.slice(0, MAX_SHOWN_VALUE)}...` : shown})`;
}

/**
 * The header naming a request's end user: the `customer` entry of `user_header_mappings` (LiteLLM's
 * newer form, which overrides the deprecated `user_header_name`), else `user_header_name`. Its
 * other roles are not implemented: said so.
 */
function userHeaderOf(file: ConfigFile, problems: ConfigProblems): { userHeaderName?: string } {
  const settings = file.general_settings;
  const mappings = settings?.user_header_mappings ?? [];
  mappings.forEach((mapping, index) => {
    if (mapping.litellm_user_role !== 'customer') {
      problems.warn(['general_settings', 'user_header_mappings', index], `the "${mapping.litellm_user_role}" role is not implemented (ignored): only "customer", the header naming the end user, is read`);
    }
  });
  const named = mappings.find((mapping) => mapping.litellm_user_role === 'customer')?.header_name.trim() || settings?.user_header_name?.trim();
  return named ? { userHeaderName: named.toLowerCase() } : {};
}

/**
 * LiteLLM's load balancing across OpenAI organizations: an entry whose `organization` is a list is
 * one deployment per organization (its index kept, for messages).
 */
function withOrganizationsExpanded(modelList: readonly unknown[]): Array<{ entry: unknown; index: number }> {
  return modelList.flatMap((entry, index) => {
    const params = entry !== null && typeof entry === 'object' ? (entry as { litellm_params?: unknown }).litellm_params : undefined;
    const organizations = params !== null && typeof params === 'object' ? (params as { organization?: unknown }).organization : undefined;
    if (!Array.isArray(organizations) || organizations.length === 0) return [{ entry, index }];
    return organizations.map((organization) => ({ entry: { ...(entry as object), litellm_params: { ...(params as object), organization } }, index }));
  });
}

/** `litellm_settings.drop_params` written as a list of names: every deployment's `additional_drop_params`, warned about. */
function globalDropList(file: ConfigFile, problems: ConfigProblems): readonly string[] | undefined {
  const value = file.litellm_settings?.drop_params;
  if (!Array.isArray(value)) return undefined;
  problems.warn(['litellm_settings', 'drop_params'], 'a list: taken as every deployment\'s additional_drop_params (these parameters are removed from every request); drop_params itself is true or false');
  return value;
}

function routerSettingsOf(file: ConfigFile, problems: ConfigProblems): RouterSettings {
  const router = file.router_settings ?? {};
  const litellm = file.litellm_settings ?? {};
  const routingStrategy = routingStrategyOf(router.routing_strategy ?? 'simple-shuffle', problems);
  type FallbackLists = ReadonlyArray<Record<string, string[]>> | Record<string, string[]> | null | undefined;
  for (const section of ['router_settings', 'litellm_settings'] as const) {
    for (const key of ['fallbacks', 'context_window_fallbacks', 'content_policy_fallbacks'] as const) {
      const value = file[section]?.[key];
      if (value != null && !Array.isArray(value)) problems.warn([section, key], 'a mapping: read as the list of one mapping LiteLLM takes ([{"group": ["fallback", ...]}]); write it as a list, as LiteLLM cannot read this form');
    }
  }
  /** router_settings' and litellm_settings' lists merged, router_settings' targets first. */
  const merged = (...lists: FallbackLists[]): Record<string, string[]> => {
    const fallbacks: Record<string, string[]> = {};
    for (const list of lists) {
      const items: ReadonlyArray<Record<string, string[]>> = list == null ? [] : Array.isArray(list) ? list : [list as Record<string, string[]>];
      for (const item of items) {
        for (const [group, targets] of Object.entries(item)) {
          const existing = (fallbacks[group] ??= []);
          for (const target of targets) if (!existing.includes(target)) existing.push(target);
        }
      }
    }
    return fallbacks;
  };
  const modelGroupAlias: Record<string, { model: string; hidden: boolean }> = {};
  for (const [alias, target] of Object.entries(router.model_group_alias ?? {})) {
    if (Array.isArray(target)) {
      // LiteLLM reads an alias's value as one group (or {model: group}): a list fails each request to it there.
      const [first, ...others] = target;
      modelGroupAlias[alias] = { model: first, hidden: false };
      problems.warn(
        ['router_settings', 'model_group_alias', alias],
        `a list: an alias names one model group, so "${first}" is used${others.length > 0 ? ` and ${others.map((other) => `"${other}"`).join(', ')} not; to try ${others.length === 1 ? 'it' : 'them'} when "${first}" fails, write router_settings.fallbacks: [{"${first}": [${others.map((other) => `"${other}"`).join(', ')}]}]` : ''}`,
      );
      continue;
    }
    modelGroupAlias[alias] = typeof target === 'string' ? { model: target, hidden: false } : { model: target.model, hidden: target.hidden === true };
  }
  return {
    numRetries: router.num_retries ?? litellm.num_retries ?? CONFIG_DEFAULTS.numRetries,
    timeoutMs: (router.timeout ?? litellm.request_timeout ?? CONFIG_DEFAULTS.timeoutSeconds) * 1000,
    routingStrategy,
    preCallChecks: router.enable_pre_call_checks === true,
    ...retryPolicyOf(router.retry_policy),
    ...(router.model_group_retry_policy != null && {
      modelGroupRetryPolicy: Object.fromEntries(Object.entries(router.model_group_retry_policy).map(([group, policy]) => [group, retryPolicyOf(policy).retryPolicy ?? {}])),
    }),
    fallbacks: merged(router.fallbacks, litellm.fallbacks),
    contextWindowFallbacks: merged(router.context_window_fallbacks, litellm.context_window_fallbacks),
    contentPolicyFallbacks: merged(router.content_policy_fallbacks, litellm.content_policy_fallbacks),
    defaultFallbacks: [...new Set([...(router.default_fallbacks ?? []), ...(litellm.default_fallbacks ?? [])])],
    allowedFails: router.allowed_fails ?? litellm.allowed_fails ?? CONFIG_DEFAULTS.allowedFails,
    ...allowedFailsPolicyOf(router.allowed_fails_policy),
    cooldownMs: (router.cooldown_time ?? litellm.cooldown_time ?? CONFIG_DEFAULTS.cooldownSeconds) * 1000,
    disableCooldowns: router.disable_cooldowns === true,
    tagFiltering: router.enable_tag_filtering === true,
    ...(router.tag_filtering_match_any === false && { tagFilteringMatchAll: true }),
    maxFallbacks: router.max_fallbacks ?? CONFIG_DEFAULTS.maxFallbacks,
    ...(router.retry_after != null && router.retry_after > 0 && { retryAfterMs: router.retry_after * 1000 }),
    modelGroupAlias,
  };
}

/** LiteLLM's `retry_policy` under Portico's names; the classes it leaves out keep the usual rule. */
function retryPolicyOf(policy: NonNullable<ConfigFile['router_settings']>['retry_policy'] | undefined): { retryPolicy?: RetryPolicy } {
  if (policy == null) return {};
  const retryPolicy: { -readonly [K in keyof RetryPolicy]: number } = {};
  const classes: ReadonlyArray<readonly [keyof RetryPolicy, number | null | undefined]> = [
    ['badRequest', policy.BadRequestErrorRetries],
    ['authentication', policy.AuthenticationErrorRetries],
    ['timeout', policy.TimeoutErrorRetries],
    ['rateLimit', policy.RateLimitErrorRetries],
    ['contentPolicy', policy.ContentPolicyViolationErrorRetries],
    ['internalServer', policy.InternalServerErrorRetries],
  ];
  for (const [errorClass, retries] of classes) if (retries != null) retryPolicy[errorClass] = retries;
  return { retryPolicy };
}

/** LiteLLM's `allowed_fails_policy` under Portico's class names; the classes it leaves out keep `allowed_fails`. */
function allowedFailsPolicyOf(policy: NonNullable<ConfigFile['router_settings']>['allowed_fails_policy']): { allowedFailsPolicy?: AllowedFailsPolicy } {
  if (policy == null) return {};
  const allowedFailsPolicy: { -readonly [K in keyof AllowedFailsPolicy]: number } = {};
  const classes: ReadonlyArray<readonly [keyof AllowedFailsPolicy, number | null | undefined]> = [
    ['badRequest', policy.BadRequestErrorAllowedFails],
    ['authentication', policy.AuthenticationErrorAllowedFails],
    ['timeout', policy.TimeoutErrorAllowedFails],
    ['rateLimit', policy.RateLimitErrorAllowedFails],
    ['contentPolicy', policy.ContentPolicyViolationErrorAllowedFails],
    ['internalServer', policy.InternalServerErrorAllowedFails],
  ];
  for (const [errorClass, allowed] of classes) if (allowed != null) allowedFailsPolicy[errorClass] = allowed;
  return { allowedFailsPolicy };
}

/** LiteLLM's strategies Portico has; `usage-based-routing` (v1) runs as v2, others as simple-shuffle, warned. */
function routingStrategyOf(name: string, problems: ConfigProblems): RoutingStrategyName {
  if ((ROUTING_STRATEGIES as readonly string[]).includes(name)) return name as RoutingStrategyName;
  if (name === 'usage-based-routing') {
    problems.warn(['router_settings', 'routing_strategy'], '"usage-based-routing" runs as usage-based-routing-v2 (LiteLLM\'s recommended successor)');
    return 'usage-based-routing-v2';
  }
  problems.warn(['router_settings', 'routing_strategy'], `"${name}" is not supported (supported: ${ROUTING_STRATEGIES.join(', ')}); Portico uses simple-shuffle`);
  return 'simple-shuffle';
}

/** An alias naming a group that does not exist would be a 404 for every request to it: say so. */
function checkAliases(router: RouterSettings, groups: ReadonlySet<string>, problems: ConfigProblems): void {
  const patterns = [...groups].filter(isModelPattern);
  for (const [alias, { model }] of Object.entries(router.modelGroupAlias)) {
    if (groups.has(alias)) problems.warn(['router_settings', 'model_group_alias', alias], `"${alias}" is also a model group in model_list; the model group wins`);
    else if (!groups.has(model) && !patterns.some((pattern) => matchesModelPattern(pattern, model))) {
      problems.warn(['router_settings', 'model_group_alias', alias], `model group "${model}" is not in model_list`);
    }
  }
}

/** A fallback naming a group (or deployment id) that does not exist would silently never work: say so. */
function checkFallbacks(router: RouterSettings, groups: ReadonlySet<string>, deploymentIds: ReadonlySet<string>, problems: ConfigProblems): void {
  const lists: ReadonlyArray<readonly [string, Readonly<Record<string, readonly string[]>>]> = [
    ['fallbacks', router.fallbacks],
    ['context_window_fallbacks', router.contextWindowFallbacks],
    ['content_policy_fallbacks', router.contentPolicyFallbacks],
  ];
  for (const [key, fallbacks] of lists) {
    for (const [group, targets] of Object.entries(fallbacks)) {
      if (!groups.has(group)) problems.warn(['router_settings', key, group], `model group "${group}" is not in model_list`);
      for (const target of targets) {
        if (!groups.has(target) && !deploymentIds.has(target)) {
          problems.warn(['router_settings', key, group], `fallback model group "${target}" is not in model_list`);
        }
      }
    }
  }
  for (const target of router.defaultFallbacks) {
    if (!groups.has(target) && !deploymentIds.has(target)) {
      problems.warn(['router_settings', 'default_fallbacks'], `fallback model group "${target}" is not in model_list`);
    }
  }
}

function filesSettingsOf(file: ConfigFile, problems: ConfigProblems): FilesSettings {
  const files = file.portico_settings?.files ?? {};
  const defaults = CONFIG_DEFAULTS.files;
  const blobStore = files.blob_store ?? defaults.blobStore;
  const s3 = blobStore === 's3' ? s3SettingsOf(files.s3, problems) : undefined;
  const azureBlob = blobStore === 'azure_blob' ? azureBlobSettingsOf(files.azure_blob, problems) : undefined;
  return {
    blobStore,
    storageDir: files.storage_dir ?? defaults.storageDir,
    ...(s3 && { s3 }),
    ...(azureBlob && { azureBlob }),
    maxFileBytes: files.max_file_bytes ?? defaults.maxFileBytes,
    maxBatchFileBytes: files.max_batch_file_bytes ?? defaults.maxBatchFileBytes,
    maxBatchFileLines: files.max_batch_file_lines ?? defaults.maxBatchFileLines,
    maxBatchLineBytes: files.max_batch_line_bytes ?? defaults.maxBatchLineBytes,
    maxConcurrentUploads: files.max_concurrent_uploads ?? defaults.maxConcurrentUploads,
    maxConcurrentUploadsPerKey: files.max_concurrent_uploads_per_key ?? defaults.maxConcurrentUploadsPerKey,
    batchFileDefaultExpirySeconds: files.batch_file_default_expiry_seconds ?? defaults.batchFileDefaultExpirySeconds,
    deleteRetryBaseSeconds: files.delete_retry_base_seconds ?? defaults.deleteRetryBaseSeconds,
    ...(files.max_bytes_per_owner != null && { maxBytesPerOwner: files.max_bytes_per_owner }),
    ...(files.max_files_per_owner != null && { maxFilesPerOwner: files.max_files_per_owner }),
  };
}

type FilesSection = NonNullable<NonNullable<ConfigFile['portico_settings']>['files']>;

const S3_PATH = ['portico_settings', 'files', 's3'];
const AZURE_BLOB_PATH = ['portico_settings', 'files', 'azure_blob'];

function s3SettingsOf(s3: FilesSection['s3'], problems: ConfigProblems): S3BlobSettings | undefined {
  if (!s3) {
    problems.error(S3_PATH, 'required when blob_store is s3 (bucket, and region/endpoint/credentials as needed)');
    return undefined;
  }
  if (!s3.access_key_id !== !s3.secret_access_key) {
    problems.error([...S3_PATH, s3.access_key_id ? 'secret_access_key' : 'access_key_id'], 'access_key_id and secret_access_key go together (neither: the AWS default credential chain)');
  }
  const defaults = CONFIG_DEFAULTS.files.s3;
  return {
    bucket: s3.bucket,
    prefix: s3.prefix ?? '',
    ...(s3.region && { region: s3.region }),
    ...(s3.endpoint && { endpoint: s3.endpoint }),
    forcePathStyle: s3.force_path_style ?? false,
    ...(s3.access_key_id && s3.secret_access_key && { accessKeyId: s3.access_key_id, secretAccessKey: s3.secret_access_key }),
    partBytes: s3.part_bytes ?? defaults.partBytes,
    queueSize: s3.queue_size ?? defaults.queueSize,
  };
}

function azureBlobSettingsOf(azure: FilesSection['azure_blob'], problems: ConfigProblems): AzureBlobSettings | undefined {
  if (!azure) {
    problems.error(AZURE_BLOB_PATH, 'required when blob_store is azure_blob (container, and connection_string or account_url with account_key or sas_token)');
    return undefined;
  }
  const defaults = CONFIG_DEFAULTS.files.azureBlob;
  const settings: AzureBlobSettings = {
    container: azure.container,
    prefix: azure.prefix ?? '',
    blockBytes: azure.block_bytes ?? defaults.blockBytes,
    concurrency: azure.concurrency ?? defaults.concurrency,
  };
  if (azure.connection_string) {
    if (azure.account_url || azure.account_key || azure.sas_token) {
      problems.error(AZURE_BLOB_PATH, 'either connection_string, or account_url with account_key or sas_token: not both');
    }
    return { ...settings, connectionString: azure.connection_string };
  }
  if (!azure.account_url) {
    problems.error(AZURE_BLOB_PATH, 'connection_string, or account_url with account_key or sas_token, is required');
    return undefined;
  }
  if (!azure.account_key === !azure.sas_token) {
    problems.error(AZURE_BLOB_PATH, 'account_url needs exactly one of account_key and sas_token');
    return undefined;
  }
  if (azure.sas_token) return { ...settings, accountUrl: azure.account_url, sasToken: azure.sas_token };
  const accountName = azure.account_name || accountNameOf(azure.account_url);
  if (!accountName) {
    problems.error([...AZURE_BLOB_PATH, 'account_name'], 'required: it cannot be read from account_url');
    return undefined;
  }
  return { ...settings, accountUrl: azure.account_url, accountName, accountKey: azure.account_key! };
}

function batchSettingsOf(file: ConfigFile): BatchSettings {
  const batch = file.portico_settings?.batch ?? {};
  const defaults = CONFIG_DEFAULTS.batch;
  return {
    refreshAfterSeconds: batch.refresh_after_seconds ?? defaults.refreshAfterSeconds,
    pollIntervalMs: batch.poll_interval_ms ?? defaults.pollIntervalMs,
    liveTrafficShare: batch.live_traffic_share ?? defaults.liveTrafficShare,
    ...(batch.lease_seconds != null && { leaseMs: batch.lease_seconds * 1000 }),
    estimatedOutputTokens: batch.estimated_output_tokens ?? defaults.estimatedOutputTokens,
    quotaExceeded: batch.quota_exceeded ?? defaults.quotaExceeded,
  };
}

/** Seconds a cached answer is kept when `cache_params.ttl` says nothing. */
const DEFAULT_CACHE_TTL_SECONDS = 600;

/**
 * LiteLLM's response cache: `litellm_settings.cache: true` with `cache_params`. LiteLLM's proxy
 * defaults to Redis, at `cache_params.host`/`port`/`password` or its REDIS_HOST, REDIS_PORT and
 * REDIS_PASSWORD variables; with none of those, the gateway's own Redis (router_settings or
 * REDIS_URL) is used when it has one, else the cache is kept in this process (warned). Types
 * Portico lacks (semantic, s3, disk) turn it off, warned.
 */
function responseCacheOf(file: ConfigFile, env: Environment, problems: ConfigProblems): { responseCache?: ResponseCacheConfig } {
  const settings = file.litellm_settings;
  if (settings?.cache !== true) return {};
  const params = settings.cache_params ?? {};
  const path = ['litellm_settings', 'cache_params'];
  const type = params.type ?? 'redis';
  if (type !== 'redis' && type !== 'local') {
    problems.warn([...path, 'type'], `cache type "${type}" is not supported by Portico (it has "redis" and "local"); responses are not cached`);
    return {};
  }
  const host = params.host ?? env.REDIS_HOST;
  const redisUrl = type === 'redis' && host ? redisUrlFrom({ host, port: params.port ?? env.REDIS_PORT, password: params.password ?? env.REDIS_PASSWORD }, [...path, ''], problems) : undefined;
  return {
    responseCache: {
      type,
      ...(redisUrl !== undefined && { redisUrl }),
      ...(params.namespace != null && { namespace: params.namespace }),
      ttlSeconds: params.ttl ?? DEFAULT_CACHE_TTL_SECONDS,
      callTypes: params.supported_call_types ?? DEFAULT_CACHED_CALL_TYPES,
      mode: params.mode ?? 'default_on',
    },
  };
}

/**
 * Whether LiteLLM's callback settings ask for OpenTelemetry (`otel` in `callbacks`,
 * `success_callback` or `failure_callback`: Portico traces every request either way); the other
 * integrations are warned about.
 */
/** Langfuse's OTLP path under its host (https://langfuse.com/integrations/native/opentelemetry). */
const LANGFUSE_OTLP_TRACES_PATH = '/api/public/otel/v1/traces';

/**
 * LiteLLM's logging callbacks Portico knows: `otel` (OpenTelemetry over OTLP, `OTEL_*`), and
 * `langfuse_otel` / `langfuse` (Langfuse, through its OpenTelemetry endpoint: LiteLLM's
 * `langfuse_otel` integration; its host `LANGFUSE_OTEL_HOST`, else `LANGFUSE_HOST`, else Langfuse
 * Cloud as LiteLLM defaults each callback, with `LANGFUSE_PUBLIC_KEY` / `LANGFUSE_SECRET_KEY` as
 * Basic auth). Portico's spans carry the model, tokens and timing, never prompts or answers:
 * `langfuse` (LiteLLM's SDK callback, which logs them) is told so.
 */
function callbacksOf(file: ConfigFile, env: Environment, problems: ConfigProblems): { otel: boolean; prometheus: boolean; langfuse?: TraceExport } {
  let otel = false;
  let prometheus = false;
  let langfuse: TraceExport | undefined;
  for (const setting of ['callbacks', 'success_callback', 'failure_callback'] as const) {
    const value = file.litellm_settings?.[setting];
    (value ?? []).forEach((name, index) => {
      const path = ['litellm_settings', setting, index];
      if (name === 'otel') otel = true;
      // LiteLLM's metrics, under its names, on `/metrics` (`observability/litellm-prometheus.ts`).
      else if (name === 'prometheus') prometheus = true;
      else if (name === 'langfuse' || name === 'langfuse_otel') {
        if (langfuse !== undefined) return;
        const publicKey = env.LANGFUSE_PUBLIC_KEY;
        const secretKey = env.LANGFUSE_SECRET_KEY;
        if (!publicKey || !secretKey) {
          problems.warn(path, `"${name}": LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not both set: nothing is sent to Langfuse`);
          return;
        }
        const host = (env.LANGFUSE_OTEL_HOST || env.LANGFUSE_HOST || (name === 'langfuse' ? 'https://cloud.langfuse.com' : 'https://us.cloud.langfuse.com')).replace(/\/+$/, '').replace(/\/api\/public\/otel$/, '');
        if (!/^https?:\/\//.test(host)) {
          problems.error(path, `"${name}": the Langfuse host "${host.slice(0, 60)}" is not an http(s) URL`);
          return;
        }
        langfuse = { url: `${host}${LANGFUSE_OTLP_TRACES_PATH}`, headers: { authorization: `Basic ${Buffer.from(`${publicKey}:${secretKey}`).toString('base64')}` } };
        if (name === 'langfuse') problems.warn(path, '"langfuse": sent to Langfuse\'s OpenTelemetry endpoint, as LiteLLM\'s langfuse_otel: traces with the model, tokens and timing, never prompts or answers');
      } else problems.warn(path, `"${name}" is not supported by Portico and is ignored (it knows "otel", OpenTelemetry traces over OTLP, "langfuse_otel", and "prometheus")`);
    });
  }
  return { otel, prometheus, ...(langfuse !== undefined && { langfuse }) };
}

const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

function webhookSettingsOf(file: ConfigFile, problems: ConfigProblems): WebhookSettings {
  const delivery = file.portico_settings?.webhook_delivery ?? {};
  const defaults = CONFIG_DEFAULTS.webhooks;
  const endpoints: WebhookEndpoint[] = [];
  (file.portico_settings?.webhooks ?? []).forEach((endpoint, index) => {
    const path = ['portico_settings', 'webhooks', index];
    let url: URL | undefined;
    try {
      url = new URL(endpoint.url);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      problems.error([...path, 'url'], `"${endpoint.url}" is not an http(s) URL`);
      return;
    }
    if (!WEBHOOK_SECRET.test(endpoint.secret) || Buffer.from(endpoint.secret.slice('whsec_'.length), 'base64').length < 16) {
      problems.error([...path, 'secret'], 'must be a Standard Webhooks secret: "whsec_" and at least 16 bytes in base64 (e.g. `echo whsec_$(openssl rand -base64 32)`)');
      return;
    }
    const events = endpoint.events ?? [...WEBHOOK_EVENT_TYPES];
    const unknown = events.filter((event) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event));
    if (unknown.length > 0) {
      problems.error([...path, 'events'], `unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.map((e) => `"${e}"`).join(', ')}; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`);
      return;
    }
    if (endpoints.some((other) => other.url === url.toString())) {
      // Deliveries are tied to their endpoint by URL: one URL, one secret.
      problems.error([...path, 'url'], `"${endpoint.url}" is listed twice; list it once with every event it wants`);
      return;
    }
    endpoints.push({ url: url.toString(), secret: endpoint.secret, events: events as WebhookEventType[], teamId: endpoint.team_id ?? null });
  });
  return {
    endpoints,
    retryFirstMs: (delivery.retry_first_seconds ?? defaults.retryFirstSeconds) * 1000,
    retryMaxMs: (delivery.retry_max_seconds ?? defaults.retryMaxSeconds) * 1000,
    giveUpAfterMs: (delivery.give_up_after_hours ?? defaults.giveUpAfterHours) * 3600 * 1000,
    timeoutMs: (delivery.timeout_seconds ?? defaults.timeoutSeconds) * 1000,
    pollIntervalMs: delivery.poll_interval_ms ?? defaults.pollIntervalMs,
  };
}

function spendLogSettingsOf(file: ConfigFile, problems: ConfigProblems): SpendLogSettings {
  const general = file.general_settings ?? {};
  const settings = file.portico_settings?.spend_logs ?? {};
  const duration = (key: 'maximum_spend_logs_retention_period' | 'maximum_spend_logs_retention_interval'): number | undefined => {
    const text = general[key];
    if (text == null || text === '') return undefined;
    const ms = parseDurationMs(text);
    if (ms === undefined) problems.error(['general_settings', key], `expected a duration such as "30d", "12h" or "1w", not "${text}"`);
    return ms;
  };
  const retentionMs = duration('maximum_spend_logs_retention_period');
  return {
    enabled: general.disable_spend_logs !== true,
    ...(retentionMs !== undefined && { retentionMs }),
    retentionIntervalMs: duration('maximum_spend_logs_retention_interval') ?? 86_400_000,
    flushIntervalMs: settings.flush_interval_ms ?? CONFIG_DEFAULTS.spendLogs.flushIntervalMs,
    maxQueueRows: settings.max_queue_rows ?? 10_000,
  };
}

/** LiteLLM's default `alerting_threshold`, seconds. */
const DEFAULT_ALERTING_THRESHOLD_SECONDS = 300;
/** The same alert at most once a minute. */
const ALERT_REPEAT_MS = 60_000;

/**
 * LiteLLM's Slack alerting: `alerting: ["slack"]`, the webhook from `SLACK_WEBHOOK_URL` (a list,
 * comma-separated) or, per alert type, `alert_to_webhook_url`; `alert_types` (default: every type
 * Portico sends) and `alerting_threshold`. Channels Portico lacks and types it does not send are warned about.
 */
/** LiteLLM's alert type for budgets, sent through the webhook outbox (`withSlackBudgetAlerts`). */
const BUDGET_ALERTS = 'budget_alerts';

function slackAlertsOf(file: ConfigFile, env: Environment, problems: ConfigProblems): { settings?: SlackAlertSettings; budgetUrls: readonly string[] } | undefined {
  const general = file.general_settings ?? {};
  const channels = general.alerting ?? [];
  channels.forEach((channel, index) => {
    if (channel !== 'slack') problems.warn(['general_settings', 'alerting', index], `"${channel}" alerts are not sent by Portico (it sends "slack")`);
  });
  if (!channels.includes('slack')) {
    for (const key of ['alert_types', 'alert_to_webhook_url', 'alerting_threshold'] as const) {
      if (general[key] != null) problems.warn(['general_settings', key], 'no "slack" in general_settings.alerting: no alerts are sent (ignored)');
    }
    return undefined;
  }
  const sent: readonly string[] = [...ALERT_TYPES, BUDGET_ALERTS];
  const wanted = (general.alert_types ?? sent).filter((type, index) => {
    if (!sent.includes(type)) problems.warn(['general_settings', 'alert_types', index], `"${type}" alerts are not sent by Portico (it sends ${sent.join(', ')})`);
    return sent.includes(type);
  });
  const defaultUrls = (env.SLACK_WEBHOOK_URL ?? '').split(',').map((url) => url.trim()).filter((url) => url !== '');
  const perType = general.alert_to_webhook_url ?? {};
  const urlsOf = (type: string): readonly string[] => {
    const own = perType[type];
    const urls = own === undefined ? defaultUrls : typeof own === 'string' ? [own] : own;
    for (const url of urls) {
      if (!/^https?:\/\//.test(url)) problems.error(['general_settings', own === undefined ? 'alerting' : 'alert_to_webhook_url'], `"${url.slice(0, 40)}" is not an http(s) webhook URL`);
    }
    return urls;
  };
  const webhookUrls: Partial<Record<AlertType, readonly string[]>> = {};
  for (const type of wanted) {
    if (type === BUDGET_ALERTS) continue;
    const urls = urlsOf(type);
    if (urls.length > 0) webhookUrls[type as AlertType] = urls;
  }
  const budgetUrls = wanted.includes(BUDGET_ALERTS) ? urlsOf(BUDGET_ALERTS) : [];
  if (Object.keys(webhookUrls).length === 0 && budgetUrls.length === 0) {
    problems.warn(['general_settings', 'alerting'], 'slack: no webhook URL (SLACK_WEBHOOK_URL, or general_settings.alert_to_webhook_url): no alerts are sent');
    return undefined;
  }
  return {
    ...(Object.keys(webhookUrls).length > 0 && { settings: { webhookUrls, slowThresholdMs: (general.alerting_threshold ?? DEFAULT_ALERTING_THRESHOLD_SECONDS) * 1000, repeatAfterMs: ALERT_REPEAT_MS } }),
    budgetUrls,
  };
}

/**
 * The webhook endpoints with LiteLLM's Slack `budget_alerts` added: a Slack endpoint per URL for
 * the budget events, delivered by the outbox like any other (durable, retried) as Slack messages.
 */
function withSlackBudgetAlerts(webhooks: WebhookSettings, budgetUrls: readonly string[], problems: ConfigProblems): WebhookSettings {
  if (budgetUrls.length === 0) return webhooks;
  const endpoints = [...webhooks.endpoints];
  for (const url of new Set(budgetUrls)) {
    if (endpoints.some((endpoint) => endpoint.url === url)) {
      problems.error(['general_settings', 'alert_to_webhook_url'], `"${url.slice(0, 40)}" is also a portico_settings.webhooks endpoint; a URL takes one kind of delivery`);
      continue;
    }
    endpoints.push({ url, secret: '', events: ['budget.soft_exceeded', 'budget.exceeded'], teamId: null, format: 'slack' });
  }
  return { ...webhooks, endpoints };
}

/** `litellm_settings.ssl_verify` and `force_ipv4`; undefined when neither changes Node's defaults. */
function upstreamConnectionOf(file: ConfigFile, problems: ConfigProblems): UpstreamConnection | undefined {
  const tls = upstreamTlsOf(file, problems);
  const ipv4Only = file.litellm_settings?.force_ipv4 === true;
  if (tls === undefined && !ipv4Only) return undefined;
  return { ...(tls !== undefined && { tls }), ...(ipv4Only && { ipv4Only }) };
}

/** `litellm_settings.ssl_verify`: `false`, or a CA bundle read at start (an unreadable one is a start-up error). */
function upstreamTlsOf(file: ConfigFile, problems: ConfigProblems): UpstreamTls | undefined {
  const setting = file.litellm_settings?.ssl_verify;
  if (setting == null || setting === true) return undefined;
  if (setting === false) {
    problems.warn(['litellm_settings', 'ssl_verify'], 'false: upstream TLS certificates are not verified');
    return { verify: false };
  }
  try {
    const caPem = readFileSync(setting, 'utf8');
    if (!caPem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
    return { caPem };
  } catch (error) {
    problems.error(['litellm_settings', 'ssl_verify'], `cannot read the CA bundle "${setting}": ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * LiteLLM's proxy budget: `max_budget` is checked only above 0 (LiteLLM's own condition, so a
 * file with `max_budget: 0` serves as it did there, and is told so), over `budget_duration` back
 * from now; it needs the spend ledger, whose rows it sums.
 */
function proxyBudgetOf(file: ConfigFile, spendLogs: SpendLogSettings, problems: ConfigProblems): ProxyBudgetConfig | undefined {
  const settings = file.litellm_settings;
  const maxBudget = settings?.max_budget ?? undefined;
  const duration = settings?.budget_duration ?? undefined;
  const windowMs = duration === undefined ? undefined : parseDurationMs(duration);
  // A duration is only an error where a budget uses it (`max_budget: 0, budget_duration: 0`: neither is used).
  const budgetUsed = maxBudget !== undefined && maxBudget !== 0 && spendLogs.enabled;
  if (duration !== undefined && windowMs === undefined && budgetUsed) problems.error(['litellm_settings', 'budget_duration'], `"${duration}" is not a duration (30s, 30m, 1h, 30d, 2w, 1mo, 1y)`);
  if (maxBudget === undefined) {
    if (duration !== undefined) problems.warn(['litellm_settings', 'budget_duration'], 'no max_budget beside it: no proxy budget (ignored)');
    return undefined;
  }
  if (maxBudget === 0) {
    problems.warn(['litellm_settings', 'max_budget'], `is 0: LiteLLM checks a proxy budget only above 0, and so does Portico (no proxy budget${duration !== undefined ? ', budget_duration ignored' : ''})`);
    return undefined;
  }
  if (!spendLogs.enabled) {
    problems.warn(['litellm_settings', 'max_budget'], 'needs the spend ledger, which general_settings.disable_spend_logs turns off: no proxy budget (ignored)');
    return undefined;
  }
  return { maxBudget, ...(windowMs !== undefined && { windowMs }) };
}

function databaseSettingsOf(file: ConfigFile, problems: ConfigProblems): DatabaseSettings {
  const database = file.portico_settings?.database ?? {};
  const general = file.general_settings ?? {};
  if (general.database_connection_pool_limit === 1) {
    problems.warn(['general_settings', 'database_connection_pool_limit'], 'is 1: PostgreSQL pools keep at least 2 connections (migrations hold one for their lock), so 2');
  }
  return {
    queryTimeoutMs: (database.query_timeout_seconds ?? CONFIG_DEFAULTS.database.queryTimeoutSeconds) * 1000,
    ...(general.database_connection_pool_limit != null && { poolMax: general.database_connection_pool_limit }),
    ...(general.database_connection_timeout != null && { connectionTimeoutMs: general.database_connection_timeout * 1000 }),
  };
}

function serverSettingsOf(file: ConfigFile, problems: ConfigProblems): ServerSettings {
  const server = file.portico_settings?.server ?? {};
  const defaults = CONFIG_DEFAULTS.server;
  const allowedIps = file.general_settings?.allowed_ips ?? undefined;
  const useForwardedFor = file.general_settings?.use_x_forwarded_for === true;
  if (allowedIps != null) {
    try {
      ipAllowlist(allowedIps, { useForwardedFor });
    } catch (error) {
      problems.error(['general_settings', 'allowed_ips'], (error as Error).message);
    }
  }
  return {
    headersTimeoutMs: (server.headers_timeout_seconds ?? defaults.headersTimeoutSeconds) * 1000,
    bodyTimeoutMs: (server.body_timeout_seconds ?? defaults.bodyTimeoutSeconds) * 1000,
    bodyMinBytesPerSecond: server.body_min_bytes_per_second ?? defaults.bodyMinBytesPerSecond,
    maxConnections: server.max_connections ?? defaults.maxConnections,
    ...(allowedIps != null && { allowedIps }),
    useForwardedFor,
    ...(file.general_settings?.global_max_parallel_requests != null && { globalMaxParallelRequests: file.general_settings.global_max_parallel_requests }),
    ...(file.general_settings?.background_health_checks === true && {
      backgroundHealthChecks: { intervalMs: (file.general_settings.health_check_interval ?? defaults.healthCheckIntervalSeconds) * 1000 },
    }),
  };
}
