/**
 * LiteLLM's `general_settings.forward_client_headers_to_llm_api`: a client's `x-` headers (and
 * `anthropic-beta`) go with the upstream calls made for its request, as LiteLLM's
 * `_get_forwardable_headers` sends them, whatever the provider. The server runs a request's calls
 * inside `clientHeaders.run(...)` only when the setting is on; otherwise nothing is stored or read.
 *
 * Never forwarded: credentials (the client's key for Portico must not reach a provider, and a
 * provider's own key header must stay the deployment's), Portico's and LiteLLM's own headers, and
 * the SDKs' `x-stainless-*` (LiteLLM leaves them out too: they make an OpenAI upstream refuse).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export const clientHeaders = new AsyncLocalStorage<Readonly<Record<string, string>>>();

let forwarding = false;

/** Turned on at start when the config says so (a process-wide setting, as in LiteLLM). */
export function forwardClientHeaders(on: boolean): void {
  forwarding = on;
}

export function forwardingClientHeaders(): boolean {
  return forwarding;
}

const NEVER_FORWARDED = /^(x-api-key|x-goog-api-key|x-amz-|x-portico-|x-litellm-|x-stainless-)/;

/** The headers of a client request that go upstream with its calls. */
export function forwardableHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') continue;
    const lower = name.toLowerCase();
    if ((lower.startsWith('x-') && !NEVER_FORWARDED.test(lower)) || lower === 'anthropic-beta') forwarded[lower] = value;
  }
  return forwarded;
}

/** The client's forwarded headers under `headers` (the provider's own win), when there are any. */
export function withClientHeaders(headers: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!forwarding) return headers;
  const forwarded = clientHeaders.getStore();
  return forwarded === undefined ? headers : { ...forwarded, ...headers };
}
