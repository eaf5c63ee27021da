/**
 * How deeply client JSON may nest. A parsed body goes on to code that recurses over it:
 * `JSON.stringify` when it is sent upstream, zod, the batch line rewriter. A body nested some
 * thousands of levels deep (a few kilobytes of `[`) overflows the stack there, a RangeError that
 * surfaces as a 500, or in the batch engine long after the upload was accepted. Real requests
 * nest a dozen levels, tool schemas included; 128 leaves ample room.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * Whether the JSON `text` could nest more than `maxDepth` levels: it has more than `maxDepth`
 * `{` and `[` in all (those inside strings counted too, so never too few). Every level opens with
 * one of them, so a text with fewer cannot be too deep, and real requests have far fewer: they
 * are answered without walking the parsed value (`nestsDeeperThan`), which only the rest need.
 */
export function mayNestDeeperThan(text: string, maxDepth: number): boolean {
  let openers = 0;
  for (let at = text.indexOf('{'); at !== -1; at = text.indexOf('{', at + 1)) {
    if (++openers > maxDepth) return true;
  }
  for (let at = text.indexOf('['); at !== -1; at = text.indexOf('[', at + 1)) {
    if (++openers > maxDepth) return true;
  }
  return false;
}

/** Whether `value` has arrays/objects nested more than `maxDepth` levels. Iterative, so it cannot overflow itself. */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop() as object;
    const depth = depths.pop() as number;
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
