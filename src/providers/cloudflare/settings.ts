/**
 * What a `cloudflare/` deployment reads of its `litellm_params` (`Provider.settings`), under
 * LiteLLM's names (https://docs.litellm.ai/docs/providers/cloudflare_workers):
 *
 * - `api_key` (or CLOUDFLARE_API_KEY, LiteLLM's name, or CLOUDFLARE_API_TOKEN, Cloudflare's): sent
 *   as `Authorization: Bearer`;
 * - `api_base` (or CLOUDFLARE_API_BASE): in LiteLLM's meaning, the prefix the model name is
 *   appended to, `https://api.cloudflare.com/client/v4/accounts/{account}/ai/run/` (a missing
 *   trailing slash is added). Also accepted: Cloudflare's OpenAI-compatible URL `.../ai/v1`
 *   (Portico speaks the native API under `.../ai/run/` beside it), and the v4 API root
 *   `.../client/v4` (what Cloudflare's SDK takes as `baseURL`), completed with the account;
 * - `account_id` (or CLOUDFLARE_ACCOUNT_ID, as LiteLLM reads it): builds the default api_base.
 *
 * A deployment with neither an api_base nor an account id cannot be called: a start-up error.
 */
import { z } from 'zod';

/** The v4 API root; LiteLLM's default api_base is `${root}/accounts/{account}/ai/run/`. */
export const CLOUDFLARE_API_ROOT = 'https://api.cloudflare.com/client/v4';

/** Environment variables read for a `litellm_params` key left out, first set wins. */
export const CLOUDFLARE_SETTINGS_ENVIRONMENT: Readonly<Record<string, readonly string[]>> = Object.freeze({
  account_id: Object.freeze(['CLOUDFLARE_ACCOUNT_ID']),
});

export interface CloudflareSettings {
  apiKey: string | undefined;
  /** The prefix a model name is appended to, ending in `/` (`.../accounts/{account}/ai/run/`). */
  runUrlPrefix: string;
}

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
/** Cloudflare account ids are 32 hex digits; anything else would only fail every call. */
const ACCOUNT_ID = /^[0-9a-fA-F]{32}$/;

export const cloudflareSettingsSchema = z
  .object({
    // Optional, as in LiteLLM, which asks for the key only when a call goes out: without one
    // Cloudflare answers 401 "Authentication error", which the client sees.
    api_key: z.string().optional(),
    api_base: httpUrl.optional(),
    account_id: z.string().optional(),
  })
  .superRefine((params, context) => {
    const accountUsed = params.api_base === undefined || isApiRoot(params.api_base);
    // Checked only where it is used: an api_base names its own account, whatever CLOUDFLARE_ACCOUNT_ID says.
    if (accountUsed && params.account_id !== undefined && !ACCOUNT_ID.test(params.account_id)) {
      context.addIssue({ code: 'custom', path: ['account_id'], message: 'must be a Cloudflare account id (32 hex digits)' });
    }
    if (params.api_base === undefined && params.account_id === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['api_base'],
        message: 'a cloudflare/ deployment needs api_base (https://api.cloudflare.com/client/v4/accounts/<account>/ai/run/) or an account id (account_id, or CLOUDFLARE_ACCOUNT_ID in the environment)',
      });
    } else if (params.api_base !== undefined && isApiRoot(params.api_base) && params.account_id === undefined) {
      context.addIssue({ code: 'custom', path: ['api_base'], message: 'is the v4 API root: the account id must come with it (account_id, or CLOUDFLARE_ACCOUNT_ID in the environment)' });
    }
  })
  .transform(
    (params): CloudflareSettings => ({
      apiKey: params.api_key,
      runUrlPrefix: runUrlPrefixOf(params.api_base, params.account_id),
    }),
  );

/** The `.../ai/run/` prefix from an api_base in any of the accepted forms, or from the account. */
export function runUrlPrefixOf(apiBase: string | undefined, accountId: string | undefined): string {
  if (apiBase === undefined) return `${CLOUDFLARE_API_ROOT}/accounts/${accountId}/ai/run/`;
  const trimmed = apiBase.replace(/\/+$/, '');
  if (isApiRoot(trimmed)) return `${trimmed}/accounts/${accountId}/ai/run/`;
  // Cloudflare's OpenAI-compatible endpoints live under .../ai/v1 (https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/).
  if (/\/ai\/v1$/.test(trimmed)) return `${trimmed.slice(0, -'/v1'.length)}/run/`;
  return `${trimmed}/`;
}

function isApiRoot(apiBase: string): boolean {
  return URL.canParse(apiBase) && /\/client\/v4\/*$/.test(new URL(apiBase).pathname);
}
