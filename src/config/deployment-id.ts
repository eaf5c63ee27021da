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
