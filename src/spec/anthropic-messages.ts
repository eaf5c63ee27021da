/**
 * Anthropic's Messages API as Portico serves it to Anthropic's SDKs and tools built on them
 * (Claude Code): `POST /v1/messages`, as LiteLLM's proxy serves it
 * (https://docs.litellm.ai/docs/anthropic_unified). The request and the answer are Anthropic's own
 * (https://docs.anthropic.com/en/api/messages), passed through to a deployment whose provider
 * speaks them; errors are rendered in Anthropic's shape (`server/error-to-response.ts`).
 */
import { z } from 'zod';

/** Served with and without `/v1`. */
export const ANTHROPIC_MESSAGES_PATH = '/messages';
/** Anthropic's token count of a Messages request (https://docs.anthropic.com/en/api/messages-count-tokens), which Claude Code asks before it sends. */
export const ANTHROPIC_COUNT_TOKENS_PATH = '/messages/count_tokens';

/** What Portico reads of the body; the rest goes upstream as sent. */
export const anthropicMessagesBody = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.unknown()),
  max_tokens: z.number().int().positive(),
  stream: z.boolean().nullish(),
});

/** A token count's body: a Messages request without `max_tokens`. */
export const anthropicCountTokensBody = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.unknown()),
});

/** A Messages request as the provider gets it: the client's body, and its `anthropic-beta` header (features it opts into). */
export interface AnthropicMessagesRequest {
  readonly body: Record<string, unknown>;
  readonly beta?: string;
}

/** Anthropic's error `type` for an HTTP status (https://docs.anthropic.com/en/api/errors). */
export function anthropicErrorTypeOf(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}
