/**
 * A `gemini/` deployment's settings, read from its `litellm_params` (LiteLLM's names): `api_key`
 * (or GEMINI_API_KEY / GOOGLE_API_KEY), optional `api_base` (the API root, default
 * https://generativelanguage.googleapis.com; a trailing `/v1beta` is accepted, as LiteLLM users
 * write it), and `batch_inline_max_bytes` (when a batch's requests go inline rather than through
 * the Files API; default Google's 20 MB). Checked once at start, problems reported by key.
 */
import { z } from 'zod';
import type { Deployment } from '../../spec/provider.ts';

export const DEFAULT_GEMINI_API_ROOT = 'https://generativelanguage.googleapis.com';
/** "Inline requests ... suitable for smaller batches that keep the total request size under 20MB" (batch API guide). */
export const DEFAULT_BATCH_INLINE_MAX_BYTES = 20 * 1024 * 1024;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const API_KEY_REQUIRED = 'a gemini deployment needs an API key (or GEMINI_API_KEY)';

export const geminiSettingsSchema = z.object({
  api_key: z.string({ error: API_KEY_REQUIRED }).min(1, API_KEY_REQUIRED),
  api_base: httpUrl.optional(),
  batch_inline_max_bytes: z.coerce.number().int().positive().optional(),
});

/**
 * `model: "*"` serves Gemini names among every provider's, and LiteLLM asks for a provider's key
 * only when a request goes there: such a deployment loads without one, and its calls go out
 * without a key (Google answers 403 PERMISSION_DENIED, which the client sees).
 */
const wildcardSettingsSchema = geminiSettingsSchema.extend({ api_key: z.string().optional() });

export interface GeminiSettings {
  apiKey: string | undefined;
  /** Origin and path prefix, without `/v1beta` and without a trailing slash. */
  apiRoot: string;
  batchInlineMaxBytes: number;
}

/** Problems as `<litellm_params key>: <message>`, which the config loader reports at that key. */
export function geminiSettingsProblems(deployment: Deployment): string[] {
  const parsed = schemaFor(deployment).safeParse(rawSettings(deployment));
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => `${issue.path.join('.') || 'litellm_params'}: ${issue.message}`);
}

export function geminiSettingsOf(deployment: Deployment): GeminiSettings {
  const settings = schemaFor(deployment).parse(rawSettings(deployment));
  return {
    apiKey: settings.api_key,
    apiRoot: (settings.api_base ?? DEFAULT_GEMINI_API_ROOT).replace(/\/+$/, '').replace(/\/v1beta$/, ''),
    batchInlineMaxBytes: settings.batch_inline_max_bytes ?? DEFAULT_BATCH_INLINE_MAX_BYTES,
  };
}

function schemaFor(deployment: Deployment) {
  // `params.model`, not `upstreamModel`: each name the wildcard serves becomes a deployment of its own.
  return deployment.params.model === '*' ? wildcardSettingsSchema : geminiSettingsSchema;
}

function rawSettings(deployment: Deployment): Record<string, unknown> {
  return { api_key: deployment.apiKey, api_base: deployment.apiBase, batch_inline_max_bytes: deployment.params.batch_inline_max_bytes ?? undefined };
}
