/**
 * Where a caller puts its key: `Authorization: Bearer <key>` (OpenAI SDKs), `api-key: <key>`
 * (Azure-style clients, https://learn.microsoft.com/azure/ai-services/openai/reference#authentication),
 * `x-api-key: <key>` (Anthropic's SDKs and Claude Code, https://docs.anthropic.com/en/api/overview),
 * or LiteLLM's own `x-litellm-api-key` (which LiteLLM reads first, so that a client may send its
 * provider's key elsewhere).
 */
import type { IncomingHttpHeaders } from 'node:http';

const BEARER_PREFIX = /^bearer\s+/i;

const KEY_HEADERS = ['api-key', 'x-api-key'] as const;

export function presentedKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const litellmKey = headers['x-litellm-api-key'];
  if (typeof litellmKey === 'string' && litellmKey.trim().length > 0) return litellmKey.replace(BEARER_PREFIX, '').trim();
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 0) {
    const key = authorization.replace(BEARER_PREFIX, '').trim();
    if (key.length > 0) return key;
  }
  for (const name of KEY_HEADERS) {
    const apiKey = headers[name];
    if (typeof apiKey === 'string') {
      const key = apiKey.trim();
      if (key.length > 0) return key;
    }
  }
  return undefined;
}
