/**
 * A `gemini/` deployment's settings, read from its `litellm_params` (LiteLLM's names): `api_key`
 * (or GEMINI_API_KEY / GOOGLE_API_KEY), optional `api_base` (the API root, default
 * https://generativelanguage.googleapis.com; a trailing `/v1beta` is accepted, as LiteLLM users
 * write it), and `batch_inline_max_bytes` (when a batch's requests go inline rather than through
 * the Files API; default Google's 20 MB). Checked once at start, problems reported by key.
 */
import { z } from 'zod';

export const DEFAULT_GEMINI_API_ROOT = 'https://generativelanguage.googleapis.com';
/** "Inline requests ... suitable for smaller batches that keep the total request size under 20MB" (batch API guide). */
export const DEFAULT_BATCH_INLINE_MAX_BYTES = 20 * 1024 * 1024;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export interface GeminiSettings {
  apiKey: string | undefined;
  /** Origin and path prefix, without `/v1beta` and without a trailing slash. */
  apiRoot: string;
  batchInlineMaxBytes: number;
}

/** What a `gemini/` deployment reads of its `litellm_params` (`Provider.settings`). */
export const geminiSettingsSchema = z
  .object({
    // Optional, as in LiteLLM, which asks for a provider's key only when a request goes there: a
    // deployment without one loads, and its calls go out without a key (Google answers 403
    // PERMISSION_DENIED, which the client sees).
    api_key: z.string().optional(),
    api_base: httpUrl.optional(),
    batch_inline_max_bytes: z.coerce.number().int().positive().optional(),
  })
  .transform(
    (params): GeminiSettings => ({
      apiKey: params.api_key,
      apiRoot: (params.api_base ?? DEFAULT_GEMINI_API_ROOT).replace(/\/+$/, '').replace(/\/v1beta$/, ''),
      batchInlineMaxBytes: params.batch_inline_max_bytes ?? DEFAULT_BATCH_INLINE_MAX_BYTES,
    }),
  );
