/**
 * Settings fields several providers' schemas share (`Provider.settings`): the header values of
 * `litellm_params` that go onto every request.
 */
import { z } from 'zod';

/**
 * `litellm_params.extra_headers` (e.g. `anthropic-beta`, OpenRouter's `HTTP-Referer`): sent with
 * every request to the deployment; the provider sets its authentication after them. The config
 * loader has already turned YAML numbers into strings.
 */
export const extraHeadersSetting = z
  .record(z.string(), z.string({ error: 'must map header names to strings' }), { error: 'must map header names to strings' })
  .optional()
  .transform((headers): Readonly<Record<string, string>> => Object.freeze({ ...headers }));
