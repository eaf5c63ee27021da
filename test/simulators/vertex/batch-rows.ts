/** What a simulated batch prediction job writes for one input line, whatever the model's publisher. */
export interface BatchRow {
  succeeded: boolean;
  row: Record<string, unknown>;
}

/**
 * The words before the error's JSON in a failed row's `status`: the exact text is not documented
 * (docs/specs/vertex-ai.md §Batch prediction); the simulator writes `"<reason phrase>: <JSON>"`.
 */
export function reasonPhrase(code: number): string {
  return ({ 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable', 529: 'Overloaded' } as Record<number, string>)[code] ?? 'Error';
}
