/**
 * LiteLLM's tag-based routing (`router_settings.enable_tag_filtering` with deployments'
 * `litellm_params.tags`; https://docs.litellm.ai/docs/proxy/tag_routing, source
 * https://github.com/BerriAI/litellm/blob/main/litellm/router_strategy/tag_based_routing.py):
 *
 * - a request with tags goes to the group's deployments that carry any of them (all of them with
 *   `tag_filtering_match_any: false`); when none does, to those tagged `default`; when none is, it
 *   is refused (a 400: nothing the group has may serve it);
 * - a request without tags goes to the deployments tagged `default`, or to any when none is.
 *
 * Pure: the router applies it to a group's candidates before it picks among them.
 */
import { InvalidRequestError } from '../spec/errors.ts';
import type { Deployment } from '../spec/provider.ts';

/** The tag that marks a deployment for untagged requests, and for tagged ones nothing else serves. */
export const DEFAULT_TAG = 'default';

function tagged(deployment: Deployment, tag: string): boolean {
  return deployment.tags?.includes(tag) === true;
}

/** The candidates a request with `requestTags` may go to; throws when it may go to none of them. */
export function deploymentsForTags(group: string, candidates: readonly Deployment[], requestTags: readonly string[], matchAll = false): readonly Deployment[] {
  const defaults = candidates.filter((deployment) => tagged(deployment, DEFAULT_TAG));
  if (requestTags.length === 0) return defaults.length > 0 ? defaults : candidates;
  const matching = candidates.filter((deployment) => (matchAll ? requestTags.every((tag) => tagged(deployment, tag)) : requestTags.some((tag) => tagged(deployment, tag))));
  if (matching.length > 0) return matching;
  if (defaults.length > 0) return defaults;
  throw new InvalidRequestError(
    `Not allowed to access model due to tags configuration: no deployment of \`${group}\` carries the request's tags (${requestTags.join(', ')}), and none is tagged "${DEFAULT_TAG}".`,
    { code: 'no_deployment_for_tags', param: 'tags' },
  );
}
