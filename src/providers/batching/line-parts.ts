/**
 * For providers' `StagedBatchesCapability.stage`: cutting a batch's lines into parts under the
 * provider's limits (requests and bytes per provider batch), in one pass that keeps only where
 * each part starts and ends, and reading one part's lines back from the source.
 */
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import type { BatchLineSource } from '../../spec/provider.ts';

export interface LineRange {
  /** Index of the first line, and one past the last. */
  start: number;
  end: number;
}

export interface PartLimits {
  maxRequests: number;
  /** Bytes of a part as `sizeOf` counts them (keep a margin when the translation grows a line). */
  maxBytes: number;
}

/** A line's size as OpenAI JSON. */
export function jsonSizeOf(line: BatchInputLine): number {
  return Buffer.byteLength(JSON.stringify(line));
}

/** Consecutive ranges covering every line, each under `limits` (a line alone over them is a part of its own). */
export async function cutIntoParts(lines: BatchLineSource, limits: PartLimits, sizeOf: (line: BatchInputLine) => number = jsonSizeOf): Promise<LineRange[]> {
  const parts: LineRange[] = [];
  let start = 0;
  let index = 0;
  let bytes = 0;
  for await (const line of lines()) {
    const size = sizeOf(line);
    if (index > start && (index - start >= limits.maxRequests || bytes + size > limits.maxBytes)) {
      parts.push({ start, end: index });
      start = index;
      bytes = 0;
    }
    bytes += size;
    index += 1;
  }
  if (index > start) parts.push({ start, end: index });
  return parts;
}

/** The lines of `range`, read from `lines` afresh on each call. */
export function linesOfRange(lines: BatchLineSource, range: LineRange): BatchLineSource {
  return async function* () {
    let index = 0;
    for await (const line of lines()) {
      if (index >= range.end) return;
      if (index >= range.start) yield line;
      index += 1;
    }
  };
}
