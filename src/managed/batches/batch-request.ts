/**
 * `POST /v1/batches` and `GET /v1/batches` input, validated as OpenAI does (WIRE.md §1.2):
 * same parameters, same limits, same error wording where it is known.
 */
import { z } from 'zod';
import { InvalidRequestError } from '../../spec/errors.ts';
import { BATCH_ENDPOINTS } from '../../spec/endpoints.ts';
import { parseTargetModelNames } from '../files/upload-fields.ts';

export interface BatchCreateRequest {
  inputFileId: string;
  endpoint: string;
  completionWindow: '24h';
  metadata: Record<string, string> | null;
  outputExpiresAfterSeconds: number | null;
  /**
   * The model group to run on, for a file placed on several (LiteLLM sends it as an extra body
   * field); null: chosen from the file (`batch-model.ts`).
   */
  model: string | null;
}

/** OpenAI's one completion window, `24h`, in seconds. */
export const COMPLETION_WINDOW_SECONDS = 86_400;

/**
 * A batch's `expires_at`: its `created_at` plus its completion window, as OpenAI sets it (stored
 * with the batch; computed for a row that has none).
 */
export function batchExpiresAt(batch: { createdAt: number; expiresAt?: number | null }): number {
  return batch.expiresAt ?? batch.createdAt + COMPLETION_WINDOW_SECONDS;
}

export const MAX_METADATA_PAIRS = 16;
const MAX_METADATA_KEY = 64;
export const MAX_METADATA_VALUE = 512;

export function parseBatchCreateRequest(body: unknown): BatchCreateRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  const input = body as Record<string, unknown>;
  for (const name of ['input_file_id', 'endpoint', 'completion_window'] as const) {
    if (input[name] === undefined || input[name] === null) {
      throw new InvalidRequestError(`Missing required parameter: '${name}'.`, { param: name, code: 'missing_required_parameter' });
    }
    if (typeof input[name] !== 'string') {
      throw new InvalidRequestError(`Invalid type for '${name}': expected a string, but got ${describe(input[name])} instead.`, { param: name, code: 'invalid_type' });
    }
  }
  const endpoint = input.endpoint as string;
  if (!BATCH_ENDPOINTS.includes(endpoint)) {
    throw new InvalidRequestError(
      `Invalid value: '${endpoint.slice(0, 100)}'. Supported values are: ${listOf(BATCH_ENDPOINTS)}.`,
      { param: 'endpoint', code: 'invalid_value' },
    );
  }
  if (input.completion_window !== '24h') {
    throw new InvalidRequestError(`Invalid value: '${String(input.completion_window).slice(0, 20)}'. Supported values are: '24h'.`, {
      param: 'completion_window',
      code: 'invalid_value',
    });
  }
  return {
    inputFileId: input.input_file_id as string,
    endpoint,
    completionWindow: '24h',
    metadata: parseMetadata(input.metadata),
    outputExpiresAfterSeconds: parseOutputExpiresAfter(input.output_expires_after),
    model: parseModel(input.model),
  };
}

function parseMetadata(value: unknown): Record<string, string> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidRequestError(`Invalid type for 'metadata': expected an object, but got ${describe(value)} instead.`, { param: 'metadata', code: 'invalid_type' });
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_METADATA_PAIRS) {
    throw new InvalidRequestError(`Invalid 'metadata': too many properties. Expected an object with at most ${MAX_METADATA_PAIRS} properties, but got ${entries.length} instead.`, { param: 'metadata', code: 'object_above_max_properties' });
  }
  for (const [key, item] of entries) {
    if (key.length > MAX_METADATA_KEY) {
      throw new InvalidRequestError(`Invalid 'metadata': keys may be at most ${MAX_METADATA_KEY} characters long.`, { param: 'metadata', code: 'invalid_value' });
    }
    if (typeof item !== 'string') {
      throw new InvalidRequestError(`Invalid type for 'metadata.${key}': expected a string, but got ${describe(item)} instead.`, { param: `metadata.${key}`, code: 'invalid_type' });
    }
    if (item.length > MAX_METADATA_VALUE) {
      throw new InvalidRequestError(`Invalid 'metadata.${key}': string too long. Expected a string with maximum length ${MAX_METADATA_VALUE}, but got a string with length ${item.length} instead.`, { param: `metadata.${key}`, code: 'string_above_max_length' });
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function parseModel(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value === '') {
    throw new InvalidRequestError(`Invalid type for 'model': expected a non-empty string, but got ${value === '' ? 'an empty string' : describe(value)} instead.`, { param: 'model', code: 'invalid_type' });
  }
  return value;
}

const outputExpiresAfter = z.object({ anchor: z.literal('created_at'), seconds: z.number().int().min(3600).max(2_592_000) });

function parseOutputExpiresAfter(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  const parsed = outputExpiresAfter.safeParse(value);
  if (!parsed.success) {
    throw new InvalidRequestError("Invalid 'output_expires_after': expected {\"anchor\": \"created_at\", \"seconds\": 3600..2592000}.", { param: 'output_expires_after', code: 'invalid_value' });
  }
  return parsed.data.seconds;
}

export interface BatchListQuery {
  after?: string;
  limit: number;
  /** LiteLLM's filter; never an error, an unknown name simply matches nothing. */
  modelGroups?: string[];
}

export function parseBatchListQuery(query: Record<string, unknown>): BatchListQuery {
  const limit = parseLimit(query.limit, 20, 100);
  const after = typeof query.after === 'string' && query.after !== '' ? query.after : undefined;
  const targets = typeof query.target_model_names === 'string' ? parseTargetModelNames(query.target_model_names) : [];
  return { after, limit, modelGroups: targets.length > 0 ? targets : undefined };
}

/** `limit` as OpenAI reads it: an integer in 1..max, else a 400 naming it. */
export function parseLimit(raw: unknown, fallback: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidRequestError(`Invalid 'limit': expected an integer between 1 and ${max}.`, { param: 'limit', code: 'invalid_value' });
  }
  return value;
}

function listOf(values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  return `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
