/**
 * Redaction of secrets from upstream text (error messages) before it reaches a client or a file.
 * Providers echo their API key in error messages (some partially masked, some not). Applied where
 * upstream errors enter Portico (`Router`, for every upstream call) and where batch result lines
 * are written (`managed/batches/result-files.ts`); `server/error-to-response.ts` keeps it as a last
 * net. Pure.
 */

/**
 * Things that look like API secrets: `sk-...` (OpenAI, Portico, Anthropic's `sk-ant-...`) and
 * long hex/base64 runs such as Azure keys (32 hex characters). Masked whatever their origin.
 */
const SECRET_PATTERNS: readonly RegExp[] = [/\bsk-[A-Za-z0-9_-]{6,}/g, /\b[a-fA-F0-9]{32,}\b/g];

export type Redactor = (text: string) => string;

export function redactSecrets(text: string): string {
  let result = text;
  for (const pattern of SECRET_PATTERNS) result = result.replace(pattern, '[redacted]');
  return result;
}

/** A redactor that also masks the exact secrets Portico knows (upstream keys, the master key). */
export function createRedactor(knownSecrets: readonly (string | undefined)[]): Redactor {
  const secrets = knownSecrets.filter((secret): secret is string => typeof secret === 'string' && secret.length >= 4);
  if (secrets.length === 0) return redactSecrets;
  return (text) => {
    let result = text;
    for (const secret of secrets) {
      if (result.includes(secret)) result = result.split(secret).join('[redacted]');
    }
    return redactSecrets(result);
  };
}
