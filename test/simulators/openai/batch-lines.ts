/**
 * Validation of a batch input file (JSONL of `BatchRequestInput`), as the batch `validating`
 * phase does it. Each problem becomes a `BatchError` (`{code, message, param, line}`) with the
 * codes and messages recorded from the real service (WIRE.md §1.2 "Validation-phase errors").
 */

type Json = Record<string, unknown>;

export interface BatchErrorItem {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface BatchLine {
  /** 1-based line number in the input file. */
  line: number;
  customId: string;
  url: string;
  body: Json;
}

export interface LineRules {
  /** Does a line `url` match the batch endpoint? */
  urlMatches(url: string): boolean;
  /** Error code for a url mismatch (`invalid_url` on OpenAI, `url_mismatch` on Azure). */
  urlMismatchCode: string;
  /** Name of the endpoint family for the streaming message ("Chat Completions", ...). */
  endpointLabel: string;
  requiresMessages: boolean;
  maxLines: number;
  /** Per-file model checks (unknown model, mixed models), run once the lines parse. */
  modelErrors(lines: BatchLine[]): BatchErrorItem[];
}

export function parseBatchInput(content: Buffer, rules: LineRules): { lines: BatchLine[]; errors: BatchErrorItem[] } {
  const lines: BatchLine[] = [];
  const errors: BatchErrorItem[] = [];
  const seen = new Set<string>();
  const texts = content.toString('utf8').split('\n');
  texts.forEach((raw, index) => {
    const lineNo = index + 1;
    if (raw.trim() === '') return;
    const err = (code: string, message: string, param: string | null = null) => errors.push({ code, message, param, line: lineNo });
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      err('invalid_json_line', 'This line is not parseable as valid JSON.');
      return;
    }
    const line = parsed as Json;
    for (const field of ['custom_id', 'method', 'url', 'body'] as const) {
      if (line[field] === undefined || line[field] === null) {
        err('missing_required_parameter', `Missing required parameter: '${field}'.`, field);
        return;
      }
    }
    if (line.method !== 'POST') {
      err('invalid_request', `Invalid value: '${String(line.method)}'. Supported values are: 'POST'.`, 'method');
      return;
    }
    if (typeof line.url !== 'string' || !rules.urlMatches(line.url)) {
      err(rules.urlMismatchCode, 'The URL provided for this request does not match the batch endpoint.', 'url');
      return;
    }
    const body = line.body as Json;
    if (typeof body !== 'object' || Array.isArray(body)) {
      err('invalid_request', "Invalid type for 'body': expected an object.", 'body');
      return;
    }
    if (body.stream === true) {
      err('streaming_unsupported', `${rules.endpointLabel}: Streaming is not supported in the Batch API.`, 'body.stream');
      return;
    }
    if (typeof body.model !== 'string' || body.model === '') {
      err('invalid_request', 'Model parameter is required.', 'body.model');
      return;
    }
    if (rules.requiresMessages && !Array.isArray(body.messages)) {
      err('invalid_request', 'Messages parameter is required.', 'body.messages');
      return;
    }
    const customId = String(line.custom_id);
    if (seen.has(customId)) {
      err('duplicate_custom_id', `The custom_id '${customId}' is duplicated. Each request in a batch must have a unique custom_id.`, 'custom_id');
      return;
    }
    seen.add(customId);
    lines.push({ line: lineNo, customId, url: line.url, body });
  });

  if (errors.length === 0 && lines.length === 0) {
    errors.push({ code: 'empty_file', message: 'The input file is empty. Please ensure that the batch contains at least one request.', param: null, line: null });
  }
  if (errors.length === 0 && lines.length > rules.maxLines) {
    errors.push({
      code: 'too_many_tasks',
      message: `The input file contains ${lines.length} requests, which exceeds the limit of ${rules.maxLines} requests per batch.`,
      param: null,
      line: null,
    });
  }
  if (errors.length === 0) errors.push(...rules.modelErrors(lines));
  return { lines, errors };
}

/** Mixed models in one file: every line whose model differs from the first line's. */
export function modelMismatchErrors(lines: BatchLine[], describe: (first: string, other: string) => string): BatchErrorItem[] {
  const first = lines[0]?.body.model as string | undefined;
  return lines
    .filter((l) => l.body.model !== first)
    .map((l) => ({ code: 'model_mismatch', message: describe(String(first), String(l.body.model)), param: 'body.model', line: l.line }));
}
