/**
 * Where a request goes after its model group failed, by why it failed (LiteLLM's router,
 * `async_function_with_fallbacks` in https://github.com/BerriAI/litellm/blob/main/litellm/router.py):
 * - the prompt is longer than the model's context window: `context_window_fallbacks`;
 * - the provider's content policy refused it: `content_policy_fallbacks`;
 * - other upstream trouble (`shouldFallBack`): `fallbacks`, else `default_fallbacks`.
 * A context-window or content-policy failure without its own list is not retried elsewhere:
 * like any other 400, it is the request's, and another group of the general list (often a
 * smaller model) would refuse it the same way.
 *
 * A target is a model group, or a deployment's `model_info.id` (that one deployment only). It is
 * left out unless the caller may use its group (`mayUse`: a key's `models` allowlist): a fallback
 * must never hand a restricted key the answer of a group it may not call directly. Pure.
 */
import { GatewayError } from '../spec/errors.ts';
import { CONTENT_POLICY_CODES, CONTEXT_WINDOW_CODES, shouldFallBack } from './retry-policy.ts';

export type FailureKind = 'context_window' | 'content_policy' | 'general';

export interface FallbackSettings {
  /** Model group -> groups (or deployment ids) to try, in order. */
  readonly fallbacks: Readonly<Record<string, readonly string[]>>;
  readonly contextWindowFallbacks: Readonly<Record<string, readonly string[]>>;
  readonly contentPolicyFallbacks: Readonly<Record<string, readonly string[]>>;
  /** For groups with no `fallbacks` entry of their own. */
  readonly defaultFallbacks: readonly string[];
  /** At most this many targets are tried (LiteLLM's `max_fallbacks`); absent: all. */
  readonly maxFallbacks?: number;
}

export type FallbackTarget = { readonly kind: 'group'; readonly group: string } | { readonly kind: 'deployment'; readonly id: string; readonly group: string };


/** Why a group failed, as far as falling back goes; undefined: no fallback for this error. */
export function failureKindOf(error: unknown): FailureKind | undefined {
  if (!(error instanceof GatewayError)) return undefined;
  if (error.code !== null && CONTEXT_WINDOW_CODES.has(error.code)) return 'context_window';
  if (error.code !== null && CONTENT_POLICY_CODES.has(error.code)) return 'content_policy';
  return shouldFallBack(error) ? 'general' : undefined;
}

function namesFor(modelGroup: string, kind: FailureKind, settings: FallbackSettings): readonly string[] {
  switch (kind) {
    case 'context_window':
      return settings.contextWindowFallbacks[modelGroup] ?? [];
    case 'content_policy':
      return settings.contentPolicyFallbacks[modelGroup] ?? [];
    case 'general':
      return settings.fallbacks[modelGroup] ?? settings.defaultFallbacks;
  }
}

/**
 * The targets to try, in order, after `modelGroup` failed with `kind`. `resolve` names a group
 * or a deployment id (undefined when it is neither). Fallbacks are not followed transitively,
 * and neither the failed group nor a target already listed comes twice.
 */
export function fallbackTargets(
  modelGroup: string,
  kind: FailureKind,
  settings: FallbackSettings,
  resolve: (name: string) => FallbackTarget | undefined,
  mayUse: (group: string) => boolean = () => true,
): FallbackTarget[] {
  const targets: FallbackTarget[] = [];
  const seen = new Set<string>([`group:${modelGroup}`]);
  for (const name of namesFor(modelGroup, kind, settings)) {
    const target = resolve(name);
    if (target === undefined || !mayUse(target.group)) continue;
    const key = target.kind === 'group' ? `group:${target.group}` : `deployment:${target.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (targets.length === (settings.maxFallbacks ?? Infinity)) break;
    targets.push(target);
  }
  return targets;
}
