/** The model groups one request may use, in order: its own, then its configured fallbacks. */
export function fallbackPlan(
  modelGroup: string,
  fallbacks: Readonly<Record<string, readonly string[]>>,
  hasGroup: (name: string) => boolean,
  useFallbacks: boolean,
): string[] {
  const plan = [modelGroup];
  if (!useFallbacks) return plan;
  // Fallbacks are not followed transitively: a cycle (a -> b -> a) cannot loop.
  for (const group of fallbacks[modelGroup] ?? []) {
    if (!plan.includes(group) && hasGroup(group)) plan.push(group);
  }
  return plan;
}
