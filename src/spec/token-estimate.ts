/**
 * A batch input file's token estimate before the output fallback is applied (issue 12): counted
 * at upload (`managed/jsonl/line-token-estimate.ts`), kept with the file, priced at batch create.
 */
export interface TokenEstimateParts {
  inputTokens: number;
  /** Output tokens of the lines that bound their answers. */
  boundedOutputTokens: number;
  /** Answers of the lines that set no bound (each costs the configured estimate). */
  unboundedOutputs: number;
}

/** Whether a stored value is an estimate (files stored before it was kept have none). */
export function isTokenEstimate(value: unknown): value is TokenEstimateParts {
  if (typeof value !== 'object' || value === null) return false;
  const parts = value as Record<string, unknown>;
  return [parts.inputTokens, parts.boundedOutputTokens, parts.unboundedOutputs].every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0);
}
