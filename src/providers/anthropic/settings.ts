/**
 * What an `anthropic/` deployment reads of its `litellm_params` (`Provider.settings`): `api_key`
 * (or ANTHROPIC_API_KEY), `api_base` (the API root, default https://api.anthropic.com: Portico
 * appends `/v1/messages`), `max_tokens` (the default for requests that set none: Anthropic
 * requires one) and `extra_headers` (e.g. `anthropic-beta`).
 *
 * `api_base` is read as LiteLLM reads it (`AnthropicConfig.get_complete_url`): one ending in
 * `/v1/messages` is the messages URL itself, any other gets `/v1/messages` appended, even one
 * that ends in `/v1` (`http://h/v1` calls `http://h/v1/v1/messages`): a config that works with
 * LiteLLM calls the same URLs here. That last case is warned about (`anthropicSettingsWarnings`).
 */
import { z } from 'zod';
import { extraHeadersSetting } from '../http/header-settings.ts';
import { DEFAULT_ANTHROPIC_API_BASE } from './http-client.ts';

const apiRoot = z
  .string()
  .refine((value) => URL.canParse(value), { error: (issue) => `'${String(issue.input)}' is not a URL.` })
  .refine((value) => !URL.canParse(value) || /^https?:$/.test(new URL(value).protocol), 'must be an http(s) URL.');

/** The root Portico appends `/v1/messages` (and `/v1/messages/batches`) to: LiteLLM's messages URL, less that. */
function rootOf(apiBase: string): string {
  return apiBase.replace(/\/+$/, '').replace(/\/v1\/messages$/, '');
}

/** Anthropic's own `max_tokens` also accepts a numeric string (values read through `os.environ/`). */
const positiveInteger = z.preprocess((value) => (typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value), z.number().int().min(1, 'must be a positive integer.'));

export const anthropicSettingsSchema = z
  .object({
    // Optional, as in LiteLLM, which asks for a key only when a call goes out: an Anthropic-format
    // server of one's own may need none, and without one Anthropic answers 401, which the client sees.
    api_key: z.string().optional(),
    api_base: apiRoot.optional(),
    max_tokens: positiveInteger.optional(),
    extra_headers: extraHeadersSetting,
  })
  .transform((params) => ({
    apiKey: params.api_key,
    /** Without a trailing slash. */
    apiBase: rootOf(params.api_base ?? DEFAULT_ANTHROPIC_API_BASE),
    /** The deployment's default for requests without `max_tokens`; absent: Portico's. */
    defaultMaxTokens: params.max_tokens,
    extraHeaders: params.extra_headers,
  }));

export type AnthropicSettings = z.output<typeof anthropicSettingsSchema>;

/** An `api_base` ending in `/v1`: served as LiteLLM serves it (`.../v1/v1/messages`), and said so. */
export function anthropicSettingsWarnings(settings: AnthropicSettings): string[] {
  if (!/\/v1$/.test(settings.apiBase)) return [];
  return [
    `api_base: "${settings.apiBase}" ends in /v1, and /v1/messages is appended to it as LiteLLM does: requests go to ${settings.apiBase}/v1/messages. Anthropic's API root (and an Anthropic-format server's) has no /v1: drop it unless that server answers there`,
  ];
}
