/**
 * The model groups one request may use, in order: its own, then its configured fallbacks that
 * exist and that the caller may use (`mayUse`: a key's `models` allowlist). A fallback must never
 * hand a restricted key the answer of a group it may not call directly.
 */
export function fallbackPlan(
  modelGroup: string,
  fallbacks: Readonly<Record<string, readonly string[]>>,
  hasGroup: (name: string) => boolean,
  useFallbacks: boolean,
  mayUse: (name: string) => boolean = () => true,
): string[] {
  const plan = [modelGroup];
  if (!useFallbacks) return plan;
  // Fallbacks are not followed transitively: a cycle (a -> b -> a) cannot loop.
  for (const group of fallbacks[modelGroup] ?? []) {
    if (!plan.includes(group) && hasGroup(group) && mayUse(group)) plan.push(group);
  }
  return plan;
}
