/**
 * What a `cohere/` (or `cohere_chat/`) deployment reads of its `litellm_params`
 * (`Provider.settings`): `api_key` (or COHERE_API_KEY / CO_API_KEY), `api_base` (the API root,
 * default https://api.cohere.com: Portico appends `/v2/chat`, `/v2/embed` and `/v2/rerank`) and
 * `extra_headers`.
 *
 * LiteLLM users write the base as LiteLLM's own defaults have it (`https://api.cohere.ai/v1/chat`,
 * `.../v2/chat`, `.../v1/embed`, `.../v2/rerank`) or with a bare version (`.../v1`, `.../v2`): each is read as
 * the root it is under. Cohere's OpenAI-compatible endpoint (`.../compatibility/v1`) is another
 * API: that base is refused with a pointer to `openai/`.
 */
import { z } from 'zod';
import { extraHeadersSetting } from '../http/header-settings.ts';

export const DEFAULT_COHERE_API_BASE = 'https://api.cohere.com';

/** A version and endpoint LiteLLM users append to the root; cut off to find the root. */
const VERSIONED_SUFFIX = /\/v[12](\/(chat|embed|rerank))?$/;

const apiBase = z
  .string()
  .refine((value) => URL.canParse(value), { error: (issue) => `'${String(issue.input)}' is not a URL.` })
  .refine((value) => !URL.canParse(value) || /^https?:$/.test(new URL(value).protocol), 'must be an http(s) URL.')
  .refine(
    (value) => !/\/compatibility(\/|$)/.test(value),
    "is Cohere's OpenAI-compatible endpoint; use it as `openai/<model>` with this api_base, or give cohere/ the API root (https://api.cohere.com).",
  );

export interface CohereSettings {
  apiKey: string | undefined;
  /** The API root, without a version and without a trailing slash (`https://api.cohere.com`). */
  apiBase: string;
  extraHeaders: Readonly<Record<string, string>>;
}

/** The API root of a configured base: trailing slashes and a LiteLLM-style `/v1`, `/v2/chat`, ... removed. */
export function apiRootOf(base: string): string {
  return base.replace(/\/+$/, '').replace(VERSIONED_SUFFIX, '').replace(/\/+$/, '');
}

export const cohereSettingsSchema = z
  .object({
    // Optional, as in LiteLLM, which asks for a key only when a call goes out: without one Cohere
    // answers 401, which the client sees.
    api_key: z.string().optional(),
    api_base: apiBase.optional(),
    extra_headers: extraHeadersSetting,
  })
  .transform(
    (params): CohereSettings => ({
      apiKey: params.api_key,
      apiBase: apiRootOf(params.api_base ?? DEFAULT_COHERE_API_BASE),
      extraHeaders: params.extra_headers,
    }),
  );
