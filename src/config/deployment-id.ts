/**
 * Stable deployment ids: `model_info.id` when given, else a short hash of what identifies the
 * upstream (model group, `litellm_params.model`, `api_base`). Never the API key, so rotating a
 * key does not orphan the files and batches stored against a deployment (issue 3).
 */
import { createHash } from 'node:crypto';

export function derivedDeploymentId(modelGroup: string, model: string, apiBase: string | undefined): string {
  return createHash('sha256')
    .update(modelGroup)
    .update('\n')
    .update(model)
    .update('\n')
    .update((apiBase ?? '').replace(/\/+$/, ''))
    .digest('hex')
    .slice(0, 16);
}

/** Keys in a fixed order at every depth, so that the same params always hash alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The id of an entry alike in model group, model and api_base to an earlier one (several API
 * keys for one endpoint): all of its `litellm_params` (the key included, hashed) identify it, as
 * LiteLLM's own ids do; `occurrence` tells apart entries that are alike in everything.
 */
export function fullIdentityDeploymentId(modelGroup: string, params: Readonly<Record<string, unknown>>, occurrence: number): string {
  return createHash('sha256').update(modelGroup).update('\n').update(canonicalJson(params)).update('\n').update(String(occurrence)).digest('hex').slice(0, 16);
}
