/**
 * Validates a batch input file line by line as it streams in, with OpenAI's error codes
 * (`docs/specs/WIRE.md` §1.2 "Validation-phase errors"). OpenAI reports these when the
 * batch validates; Portico reports them at upload as a 400 naming the line, so a bad file never
 * reaches a provider.
 */
import { addLineTokens, emptyTokenEstimate, type TokenEstimateParts } from './line-token-estimate.ts';
import { createHash } from 'node:crypto';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../spec/json-depth.ts';
import { BATCH_ENDPOINTS } from '../../spec/endpoints.ts';
import { LineSplitter, LineTooLongError } from './line-splitter.ts';
import { echoValue } from '../../spec/echo-value.ts';

export interface BatchInputProblem {
  line: number | null;
  code: string;
  param: string | null;
  message: string;
}

export interface BatchInputSummary {
  /** Number of request lines (blank lines are not counted). */
  lineCount: number;
  /** The endpoint every line targets, normalised to the `/v1/...` form; null when empty or mixed. */
  endpoint: string | null;
  /** `body.model` values and how many lines name each. */
  models: Map<string, number>;
  /** The first problem found; validation stops looking after it. */
  problem: BatchInputProblem | null;
  /** The lines' tokens as batch reservations estimate them (`line-token-estimate.ts`). */
  tokens: TokenEstimateParts;
}

export interface BatchInputValidatorOptions {
  maxLines: number;
  maxLineBytes?: number;
}

/**
 * Longest `custom_id`, characters. OpenAI states no limit; ids are echoed into every result
 * line and kept while the batch runs, so Portico bounds them.
 */
export const MAX_CUSTOM_ID_CHARS = 512;

/** Longest `body.model`, characters. */
export const MAX_MODEL_CHARS = 256;

/**
 * Accepts `/v1/chat/completions` and Azure's documented `/chat/completions` alike
 * (WIRE.md §2.2: Azure's classic docs write line urls without `/v1`).
 */
export function normaliseBatchEndpoint(url: string): string | null {
  const withVersion = url.startsWith('/v1/') ? url : `/v1${url.startsWith('/') ? '' : '/'}${url}`;
  return BATCH_ENDPOINTS.includes(withVersion) ? withVersion : null;
}

export class BatchInputValidator {
  private readonly splitter: LineSplitter;
  /** Digests of the ids seen (`customIdDigest`): a fixed size per line, however long the ids. */
  private readonly customIdDigests = new Set<string>();
  private readonly options: BatchInputValidatorOptions;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private lineCount = 0;
  private endpoint: string | null = null;
  private readonly models = new Map<string, number>();
  private problem: BatchInputProblem | null = null;
  private readonly tokens = emptyTokenEstimate();

  constructor(options: BatchInputValidatorOptions) {
    this.options = options;
    this.splitter = new LineSplitter((line, number) => this.checkLine(line, number), { maxLineBytes: options.maxLineBytes });
  }

  /** The first problem found in what was pushed so far (the end of the file is not checked yet). */
  get problemSoFar(): BatchInputProblem | null {
    return this.problem;
  }

  /** Feed the next chunk. Cheap once a problem is found: the rest is only passed over. */
  push(chunk: Buffer): void {
    if (this.problem) return;
    try {
      this.splitter.push(chunk);
    } catch (error) {
      this.recordTooLong(error);
    }
  }

  finish(): BatchInputSummary {
    if (!this.problem) {
      try {
        this.splitter.end();
      } catch (error) {
        this.recordTooLong(error);
      }
    }
    if (!this.problem && this.lineCount === 0) {
      this.fail(null, 'empty_file', null, 'The input file is empty. Please ensure that the batch contains at least one request.');
    }
    return { lineCount: this.lineCount, endpoint: this.endpoint, models: this.models, problem: this.problem, tokens: this.tokens };
  }

  private recordTooLong(error: unknown): void {
    if (!(error instanceof LineTooLongError)) throw error;
    this.fail(error.lineNumber, 'invalid_json_line', null, `This line is too long (more than ${error.maxLineBytes} bytes).`);
  }

  private fail(line: number | null, code: string, param: string | null, message: string): void {
    this.problem ??= { line, code, param, message };
  }

  private checkLine(raw: Buffer, number: number): void {
    if (this.problem) return;
    let text: string;
    try {
      text = this.decoder.decode(raw);
    } catch {
      return this.fail(number, 'invalid_json_line', null, 'This line is not valid UTF-8.');
    }
    if (text.trim() === '') return;
    this.lineCount += 1;
    if (this.lineCount > this.options.maxLines) {
      return this.fail(number, 'too_many_tasks', null, `The batch input file has more than the maximum of ${this.options.maxLines} requests.`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.fail(number, 'invalid_json_line', null, 'This line is not parseable as valid JSON.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return this.fail(number, 'invalid_json_line', null, 'This line is not a JSON object.');
    }
    if (nestsDeeperThan(parsed, MAX_JSON_DEPTH)) {
      return this.fail(number, 'invalid_json_line', null, `This line is nested more than ${MAX_JSON_DEPTH} levels deep.`);
    }
    const line = parsed as Record<string, unknown>;
    for (const name of ['custom_id', 'method', 'url', 'body'] as const) {
      if (line[name] === undefined || line[name] === null) {
        return this.fail(number, 'missing_required_parameter', name, `Missing required parameter: '${name}'.`);
      }
    }
    if (typeof line.custom_id !== 'string' || line.custom_id.length === 0) {
      return this.fail(number, 'invalid_type', 'custom_id', "Invalid type for 'custom_id': expected a non-empty string.");
    }
    if (line.custom_id.length > MAX_CUSTOM_ID_CHARS) {
      return this.fail(number, 'invalid_value', 'custom_id', `The custom_id is too long: at most ${MAX_CUSTOM_ID_CHARS} characters.`);
    }
    const digest = customIdDigest(line.custom_id);
    if (this.customIdDigests.has(digest)) {
      return this.fail(number, 'duplicate_custom_id', 'custom_id', `The custom_id '${truncate(line.custom_id)}' is used more than once in this file.`);
    }
    this.customIdDigests.add(digest);
    if (line.method !== 'POST') {
      return this.fail(number, 'invalid_value', 'method', `Invalid value: '${echoValue(line.method, 80)}'. Supported values are: 'POST'.`);
    }
    const endpoint = typeof line.url === 'string' ? normaliseBatchEndpoint(line.url) : null;
    if (endpoint === null) {
      return this.fail(number, 'invalid_url', 'url', `Invalid value: '${echoValue(line.url, 80)}'. Supported values are: ${BATCH_ENDPOINTS.map((e) => `'${e}'`).join(', ')}.`);
    }
    if (this.endpoint !== null && this.endpoint !== endpoint) {
      return this.fail(number, 'invalid_url', 'url', 'The URL provided for this request does not match the URL of the other requests in the file.');
    }
    this.endpoint = endpoint;
    const body = line.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return this.fail(number, 'invalid_type', 'body', "Invalid type for 'body': expected an object.");
    }
    const request = body as Record<string, unknown>;
    if (request.stream === true) {
      return this.fail(number, 'streaming_unsupported', 'body.stream', 'Streaming is not supported in the Batch API.');
    }
    if (typeof request.model !== 'string' || request.model.length === 0) {
      return this.fail(number, 'invalid_request', 'body.model', 'Model parameter is required.');
    }
    // Every distinct model is kept for the summary: bounded like the ids, so a file of distinct
    // huge names cannot grow the map (no model group has such a name anyway).
    if (request.model.length > MAX_MODEL_CHARS) {
      return this.fail(number, 'invalid_value', 'body.model', `The model name is too long: at most ${MAX_MODEL_CHARS} characters.`);
    }
    this.models.set(request.model, (this.models.get(request.model) ?? 0) + 1);
    addLineTokens(this.tokens, endpoint, request);
  }
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}...` : value;
}

/**
 * 128 bits of the id's sha256: two different ids of one file share it with a chance far below
 * any hardware error, and the set of ids seen costs the same per line whatever their length.
 */
function customIdDigest(customId: string): string {
  return createHash('sha256').update(customId).digest().subarray(0, 16).toString('base64');
}
