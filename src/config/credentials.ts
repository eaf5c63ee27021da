/**
 * LiteLLM's `credential_list`: named connection values (`api_key`, `api_base`, `api_version`,
 * ...) that deployments reference with `litellm_params.litellm_credential_name`. As LiteLLM's
 * `load_credentials_from_list` (https://github.com/BerriAI/litellm/blob/main/litellm/utils.py)
 * does, a credential only fills in what the deployment's `litellm_params` leave out: a value
 * written on the deployment wins.
 */
import type { ConfigProblems } from './config-path.ts';
import type { ConfigFile } from './litellm-schema.ts';

export type Credentials = ReadonlyMap<string, Readonly<Record<string, unknown>>>;

export function credentialsOf(file: ConfigFile, problems: ConfigProblems): Credentials {
  const credentials = new Map<string, Readonly<Record<string, unknown>>>();
  (file.credential_list ?? []).forEach((credential, index) => {
    if (credentials.has(credential.credential_name)) {
      problems.error(['credential_list', index, 'credential_name'], `credential "${credential.credential_name}" is defined twice`);
      return;
    }
    credentials.set(credential.credential_name, credential.credential_values);
  });
  return credentials;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `rawEntry` with its credential's values filled into `litellm_params`; an unknown name is an error. */
export function withCredential(rawEntry: unknown, index: number, credentials: Credentials, problems: ConfigProblems): unknown {
  if (!isRecord(rawEntry) || !isRecord(rawEntry.litellm_params)) return rawEntry;
  const name = rawEntry.litellm_params.litellm_credential_name;
  if (name === undefined || name === null) return rawEntry;
  const values = typeof name === 'string' ? credentials.get(name) : undefined;
  if (values === undefined) {
    const known = [...credentials.keys()];
    problems.error(
      ['model_list', index, 'litellm_params', 'litellm_credential_name'],
      `no credential "${String(name)}" in credential_list${known.length > 0 ? ` (defined: ${known.join(', ')})` : ''}`,
    );
    return rawEntry;
  }
  const params: Record<string, unknown> = { ...rawEntry.litellm_params };
  for (const [key, value] of Object.entries(values)) {
    if (params[key] === undefined || params[key] === null) params[key] = value;
  }
  return { ...rawEntry, litellm_params: params };
}
