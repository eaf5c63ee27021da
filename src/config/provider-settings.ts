/**
 * A provider's typed settings (`Provider.settings` in `spec/provider.ts`): its zod schema parsed
 * over the deployment's `litellm_params` at start, issues reported at their config path
 * (`model_list[3].litellm_params.aws_region_name: ...`), the result handed to its
 * `createClient`. Generic: nothing here knows a provider.
 */
import { z } from 'zod';
import type { Deployment, Provider } from '../spec/provider.ts';
import { type ConfigPath, ConfigProblems } from './config-path.ts';
import type { Environment } from './environment-references.ts';

/** The keys a zod schema reads: an object's, through pipes (`.transform`) and wrappers. */
function schemaKeys(schema: z.ZodType): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodPipe) return schemaKeys(schema.in as z.ZodType);
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault) return schemaKeys(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodUnion || schema instanceof z.ZodDiscriminatedUnion) return [...new Set((schema.options as z.ZodType[]).flatMap(schemaKeys))];
  if (schema instanceof z.ZodIntersection) return [...schemaKeys(schema.def.left as z.ZodType), ...schemaKeys(schema.def.right as z.ZodType)];
  return [];
}

const keysCache = new WeakMap<Provider, readonly string[]>();

/** `litellm_params` keys a provider reads: its settings schema's and its `paramKeys`. */
export function providerParamKeys(provider: Provider): readonly string[] {
  let keys = keysCache.get(provider);
  if (keys === undefined) {
    keys = Object.freeze([...new Set([...(provider.settings ? schemaKeys(provider.settings.schema as z.ZodType) : []), ...(provider.paramKeys ?? [])])]);
    keysCache.set(provider, keys);
  }
  return keys;
}

/**
 * What the schema parses: `params` with the deployment's resolved connection values, empty keys
 * left out, and the provider's environment fallbacks for keys still absent.
 */
export function settingsInput(provider: Provider, params: Readonly<Record<string, unknown>>, deployment: Pick<Deployment, 'apiKey' | 'apiBase' | 'apiVersion'>, env: Environment): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) if (value !== null && value !== undefined && value !== '') input[key] = value;
  delete input.api_key;
  delete input.api_base;
  delete input.api_version;
  if (deployment.apiKey !== undefined) input.api_key = deployment.apiKey;
  if (deployment.apiBase !== undefined) input.api_base = deployment.apiBase;
  if (deployment.apiVersion !== undefined) input.api_version = deployment.apiVersion;
  for (const [key, names] of Object.entries(provider.settings?.environment ?? {})) {
    if (input[key] !== undefined) continue;
    const value = names.map((name) => env[name]).find((found) => found !== undefined && found !== '');
    if (value !== undefined) input[key] = value;
  }
  return input;
}

/**
 * The provider's parsed settings; each issue becomes an error at `entryPath.litellm_params.<key>`.
 * `{ ok: false }` when there were issues (the config load fails with them).
 */
export function parseProviderSettings(provider: Provider, input: Record<string, unknown>, entryPath: ConfigPath, problems: Pick<ConfigProblems, 'error'>): { ok: true; settings: unknown } | { ok: false } {
  if (provider.settings === undefined) return { ok: true, settings: undefined };
  const parsed = (provider.settings.schema as z.ZodType).safeParse(input);
  if (parsed.success) return { ok: true, settings: parsed.data };
  for (const issue of parsed.error.issues) problems.error([...entryPath, 'litellm_params', ...issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment))], issue.message);
  return { ok: false };
}

/**
 * A provider's settings from a `litellm_params` mapping alone (tests of a provider folder):
 * the same parse the config loader does, throwing the problems it would report.
 */
export function providerSettingsOf<Settings>(provider: Provider<Settings>, params: Record<string, unknown>, env: Environment = {}): Settings {
  const problems = new ConfigProblems();
  const input = settingsInput(provider as Provider, params, { apiKey: params.api_key as string | undefined, apiBase: params.api_base as string | undefined, apiVersion: params.api_version as string | undefined }, env);
  const parsed = parseProviderSettings(provider as Provider, input, [], problems);
  if (!parsed.ok) throw new Error(problems.errors.join('\n'));
  return parsed.settings as Settings;
}
