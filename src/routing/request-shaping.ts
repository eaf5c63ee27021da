/**
 * A chat request as one deployment gets it: the deployment's request defaults filled in, then
 * the parameters it must not receive dropped. Pure; `shaped-client.ts` applies it per attempt
 * (each deployment of a group may shape the same request differently).
 *
 * LiteLLM's semantics (https://docs.litellm.ai/docs/completion/drop_params, source
 * https://github.com/BerriAI/litellm/blob/main/docs/my-website/docs/completion/drop_params.md):
 * - `drop_params: true` (in `litellm_settings`, a deployment's `litellm_params`, or the request
 *   body) drops the OpenAI parameters the provider does not support instead of failing;
 * - `additional_drop_params: [...]` (a deployment's `litellm_params`, or the request body) drops
 *   those parameters always, supported or not.
 * Request defaults: LiteLLM's router calls `litellm.acompletion(**{**deployment_litellm_params,
 * "messages": ..., **request_kwargs})` (`Router._acompletion`,
 * https://github.com/BerriAI/litellm/blob/main/litellm/router.py): a parameter the request sets
 * wins over the deployment's.
 */

/** Portico/LiteLLM control keys a request may carry: honoured, never sent upstream. */
const CONTROL_KEYS = ['drop_params', 'additional_drop_params'] as const;

/** A default is not added when the request sets another name for the same thing. */
const SAME_MEANING: Readonly<Record<string, readonly string[]>> = {
  max_tokens: ['max_completion_tokens'],
  max_completion_tokens: ['max_tokens'],
};

export interface RequestShaping {
  readonly dropParams: boolean;
  readonly additionalDropParams: readonly string[];
  readonly requestDefaults: Readonly<Record<string, unknown>>;
  /** The provider's unsupported OpenAI parameters (dropped under `drop_params`). */
  readonly unsupportedParams: readonly string[];
}

export interface ShapedRequest {
  readonly body: Record<string, unknown>;
  /** Parameters the request (or a default) had and that were removed, in the order found. */
  readonly dropped: readonly string[];
}

/** Whether a deployment ever changes a request: when not, bodies pass untouched. */
export function shapesRequests(shaping: RequestShaping): boolean {
  return shaping.dropParams || shaping.additionalDropParams.length > 0 || Object.keys(shaping.requestDefaults).length > 0;
}

function hasControlKey(body: Record<string, unknown>): boolean {
  return Object.hasOwn(body, 'drop_params') || Object.hasOwn(body, 'additional_drop_params');
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

const UNSHAPED: readonly string[] = Object.freeze([]);

/** `active`: `shapesRequests(shaping)`, when the caller computed it once (the hot path). */
export function shapeRequest(body: Record<string, unknown>, shaping: RequestShaping, active = shapesRequests(shaping)): ShapedRequest {
  if (!active && !hasControlKey(body)) return { body, dropped: UNSHAPED };
  const shaped: Record<string, unknown> = { ...body };
  for (const key of CONTROL_KEYS) delete shaped[key];
  for (const [key, value] of Object.entries(shaping.requestDefaults)) {
    if (shaped[key] === undefined && !(SAME_MEANING[key] ?? []).some((other) => shaped[other] !== undefined)) shaped[key] = value;
  }
  const toDrop = new Set([...shaping.additionalDropParams, ...stringList(body.additional_drop_params)]);
  const dropUnsupported = body.drop_params === true || (shaping.dropParams && body.drop_params !== false);
  if (dropUnsupported) for (const key of shaping.unsupportedParams) toDrop.add(key);
  const dropped: string[] = [];
  for (const key of toDrop) {
    if (Object.hasOwn(shaped, key)) {
      delete shaped[key];
      dropped.push(key);
    }
  }
  return { body: shaped, dropped };
}
