/**
 * Keys the config file has but Portico does not use: reported as warnings naming their path
 * (a typo like `api_bse` must not pass silently), never as errors (LiteLLM files have many keys
 * Portico ignores).
 */
import type { z } from 'zod';
import { type ConfigPath, ConfigProblems, formatConfigPath } from './config-path.ts';
import { LITELLM_KEYS_NOT_IMPLEMENTED } from './litellm-known-keys.ts';
import {
  DESCRIPTIVE_MODEL_INFO_KEYS,
  azureBlobSettingsSchema,
  configFileSchema,
  filesSettingsSchema,
  generalSettingsSchema,
  litellmParamsSchema,
  litellmSettingsSchema,
  modelEntrySchema,
  modelInfoSchema,
  porticoSettingsSchema,
  routerSettingsSchema,
  s3BlobSettingsSchema,
  serverSettingsSchema,
} from './litellm-schema.ts';

function keysOf(schema: z.ZodObject): ReadonlySet<string> {
  return new Set(Object.keys(schema.shape));
}

const TOP_KEYS = keysOf(configFileSchema);
const ENTRY_KEYS = keysOf(modelEntrySchema);
const PARAM_KEYS = keysOf(litellmParamsSchema);
const MODEL_INFO_KEYS = keysOf(modelInfoSchema);
const SECTION_KEYS: ReadonlyArray<readonly [string, ReadonlySet<string>]> = [
  ['general_settings', keysOf(generalSettingsSchema)],
  ['router_settings', keysOf(routerSettingsSchema)],
  ['litellm_settings', keysOf(litellmSettingsSchema)],
  ['portico_settings', keysOf(porticoSettingsSchema)],
];
const FILES_KEYS = keysOf(filesSettingsSchema);
const SERVER_KEYS = keysOf(serverSettingsSchema);
const S3_KEYS = keysOf(s3BlobSettingsSchema);
const AZURE_BLOB_KEYS = keysOf(azureBlobSettingsSchema);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function warnUnknown(
  value: unknown,
  known: (key: string) => boolean,
  path: ConfigPath,
  problems: Pick<ConfigProblems, 'warn'>,
  litellm?: ReadonlySet<string>,
  elsewhere?: (key: string) => string | undefined,
): void {
  if (!isRecord(value)) return;
  for (const key of Object.keys(value)) {
    if (known(key)) continue;
    const section = elsewhere?.(key);
    problems.warn(
      [...path, key],
      litellm?.has(key)
        ? 'a LiteLLM setting Portico does not implement (ignored)'
        : section !== undefined
          ? `Portico reads this key under ${section}, not here (ignored here)`
          : 'unknown key, not used by Portico (ignored)',
    );
  }
}

/**
 * The other section in which Portico reads `key`: a key written in the wrong section
 * (`general_settings.max_budget` for `litellm_settings.max_budget`; a `master_key` under
 * `litellm_settings`, which leaves the gateway open) is the likeliest reading of it.
 */
function sectionReading(key: string, except: string): string | undefined {
  return SECTION_KEYS.find(([section, keys]) => section !== except && section !== 'portico_settings' && keys.has(key))?.[0];
}

/**
 * Which entries of `model_list` Portico serves, and the extra `litellm_params` keys the provider
 * of each reads. Skipped entries (a provider Portico lacks) are neither checked nor needed.
 */
export interface EntryUse {
  isServed(entryIndex: number): boolean;
  providerParamKeys(entryIndex: number): readonly string[];
}

function modelInfoKeyKnown(key: string): boolean {
  return MODEL_INFO_KEYS.has(key) || DESCRIPTIVE_MODEL_INFO_KEYS.has(key) || key.startsWith('supports_');
}

/**
 * Whether Portico reads the value at `path`: an `os.environ/` reference there must resolve; one
 * anywhere else (a key Portico does not know, an entry it skips) is left alone.
 */
export function isUsedPath(path: ConfigPath, use: EntryUse): boolean {
  const [top, second, third, fourth] = path;
  if (typeof top !== 'string') return false;
  // A credential's values are a deployment's connection values.
  if (top === 'portico_settings' || top === 'credential_list') return true;
  if (top === 'model_list') {
    if (typeof second !== 'number' || !use.isServed(second) || typeof third !== 'string' || !ENTRY_KEYS.has(third)) return false;
    if (fourth === undefined || third === 'model_name') return true;
    if (typeof fourth !== 'string') return false;
    if (third === 'litellm_params') return PARAM_KEYS.has(fourth) || use.providerParamKeys(second).includes(fourth);
    return modelInfoKeyKnown(fourth);
  }
  const keys = SECTION_KEYS.find(([section]) => section === top)?.[1];
  return keys !== undefined && typeof second === 'string' && keys.has(second);
}

export function warnUnknownKeys(raw: unknown, use: EntryUse, problems: ConfigProblems): void {
  if (!isRecord(raw)) return;
  warnUnknown(raw, (key) => TOP_KEYS.has(key), [], problems, LITELLM_KEYS_NOT_IMPLEMENTED.top);
  for (const [section, keys] of SECTION_KEYS) {
    warnUnknown(raw[section], (key) => keys.has(key), [section], problems, LITELLM_KEYS_NOT_IMPLEMENTED[section], (key) => sectionReading(key, section));
  }
  const portico = raw.portico_settings;
  if (isRecord(portico)) {
    warnUnknown(portico.files, (key) => FILES_KEYS.has(key), ['portico_settings', 'files'], problems);
    if (isRecord(portico.files)) {
      warnUnknown(portico.files.s3, (key) => S3_KEYS.has(key), ['portico_settings', 'files', 's3'], problems);
      warnUnknown(portico.files.azure_blob, (key) => AZURE_BLOB_KEYS.has(key), ['portico_settings', 'files', 'azure_blob'], problems);
    }
    warnUnknown(portico.server, (key) => SERVER_KEYS.has(key), ['portico_settings', 'server'], problems);
  }
  const models = raw.model_list;
  if (!Array.isArray(models)) return;
  // Collected over the entries first: a file of 200 deployments that each set `order:` says so
  // in one line, not 200.
  const entries = new UnknownEntryKeys();
  models.forEach((entry: unknown, index) => {
    if (!isRecord(entry) || !use.isServed(index)) return;
    warnUnknown(entry, (key) => ENTRY_KEYS.has(key), ['model_list', index], entries.at(index));
    const extra = new Set(use.providerParamKeys(index));
    warnUnknown(entry.litellm_params, (key) => PARAM_KEYS.has(key) || extra.has(key), ['model_list', index, 'litellm_params'], entries.at(index), LITELLM_KEYS_NOT_IMPLEMENTED.litellm_params);
    warnUnknown(entry.model_info, modelInfoKeyKnown, ['model_list', index, 'model_info'], entries.at(index));
  });
  entries.report(problems);
}

/** Unknown keys of `model_list` entries, by their path within an entry: one warning per key. */
class UnknownEntryKeys {
  readonly #byKey = new Map<string, { inner: ConfigPath; message: string; entries: number[] }>();

  /** A sink for `warnUnknown` over entry `index` (paths `['model_list', index, ...]`). */
  at(index: number): Pick<ConfigProblems, 'warn'> {
    return {
      warn: (path, message) => {
        const inner = path.slice(2);
        const key = `${formatConfigPath(inner)}\n${message}`;
        const found = this.#byKey.get(key);
        if (found) found.entries.push(index);
        else this.#byKey.set(key, { inner, message, entries: [index] });
      },
    };
  }

  report(problems: ConfigProblems): void {
    for (const { inner, message, entries } of this.#byKey.values()) {
      if (entries.length === 1) {
        problems.warn(['model_list', entries[0], ...inner], message);
        continue;
      }
      const shown = entries.slice(0, 5).map((index) => `[${index}]`).join(', ');
      const more = entries.length > 5 ? `, ... (${entries.length} entries)` : '';
      problems.warn(['model_list[*]', ...inner], `${message}, in model_list${shown}${more}`);
    }
  }
}
