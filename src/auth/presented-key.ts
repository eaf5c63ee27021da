/**
 * Where a caller puts its key: `Authorization: Bearer <key>` (OpenAI SDKs) or `api-key: <key>`
 * (Azure-style clients, https://learn.microsoft.com/azure/ai-services/openai/reference#authentication).
 */
import type { IncomingHttpHeaders } from 'node:http';

const BEARER_PREFIX = /^bearer\s+/i;

export function presentedKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 0) {
    const key = authorization.replace(BEARER_PREFIX, '').trim();
    if (key.length > 0) return key;
  }
  const apiKey = headers['api-key'];
  if (typeof apiKey === 'string') {
    const key = apiKey.trim();
    if (key.length > 0) return key;
  }
  return undefined;
}
