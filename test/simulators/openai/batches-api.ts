/**
 * The Batch API routes (`POST/GET /batches`, `GET /batches/{id}`, `POST /batches/{id}/cancel`)
 * for the OpenAI family. Synchronous checks follow WIRE.md §1.2 "Synchronous HTTP errors";
 * everything about the input file is checked later, in the batch's `validating` phase.
 */
import type { SimReply, SimRequest, SimRoute } from '../common/simulator-server.ts';
import type { BatchEngine, SimulatedBatch } from './batch-engine.ts';
import type { OpenAIErrorFields } from './errors.ts';
import type { BatchableEndpoint } from './inference.ts';
import { checkMetadata, typeName } from './metadata.ts';

type Json = Record<string, unknown>;

export interface BatchesSurface {
  prefix: string;
  engine: BatchEngine;
  error(status: number, fields: OpenAIErrorFields): SimReply;
  notFound(id: string): SimReply;
  /** Accepted `endpoint` values and the logic each runs. */
  endpoints: Record<string, BatchableEndpoint>;
  /** How the "Supported values are: ..." message lists them. */
  endpointsMessage: string;
  /** OpenAI answers 400 for a bad `completion_window`; Azure accepts it and fails the job later. */
  checksCompletionWindow: boolean;
  outputExpiresAfter: { min: number; max: number };
  /** A chance to refuse before creating (Azure: input file not processed yet). */
  beforeCreate?(body: Json): SimReply | null;
  createAnswer(req: SimRequest): { status: number; headers?: Record<string, string> };
  render(batch: SimulatedBatch, phase: 'create' | 'read'): Json;
  listEnvelope(data: Json[], hasMore: boolean): Json;
}

export function batchesRoutes(s: BatchesSurface): SimRoute[] {
  const p = s.prefix.replace(/\//g, '\\/');
  return [
    { method: 'POST', path: new RegExp(`^${p}/batches$`), handle: (req) => create(s, req) },
    { method: 'GET', path: new RegExp(`^${p}/batches$`), handle: (req) => list(s, req) },
    {
      method: 'GET',
      path: new RegExp(`^${p}/batches/([^/]+)$`),
      handle: (_req, [id]) => {
        const batch = s.engine.batches.get(id);
        return batch ? { status: 200, json: s.render(batch, 'read') } : s.notFound(id);
      },
    },
    {
      method: 'POST',
      path: new RegExp(`^${p}/batches/([^/]+)/cancel$`),
      handle: (_req, [id]) => {
        const batch = s.engine.batches.get(id);
        if (!batch) return s.notFound(id);
        const refusedStatus = s.engine.cancel(id);
        if (refusedStatus) return s.error(409, { message: `Cannot cancel a batch with status '${refusedStatus}'.` });
        return { status: 200, json: s.render(batch, 'read') };
      },
    },
  ];
}

function create(s: BatchesSurface, req: SimRequest): SimReply {
  if (req.jsonError || typeof req.json !== 'object' || req.json === null || Array.isArray(req.json)) {
    return s.error(400, {
      message:
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    });
  }
  const body = req.json as Json;
  for (const field of ['input_file_id', 'endpoint', 'completion_window'] as const) {
    if (body[field] === undefined) return s.error(400, { message: `Missing required parameter: '${field}'.`, param: field, code: 'missing_required_parameter' });
    if (typeof body[field] !== 'string') {
      return s.error(400, { message: `Invalid type for '${field}': expected a string, but got ${typeName(body[field])} instead.`, param: field, code: 'invalid_type' });
    }
  }
  const endpoint = body.endpoint as string;
  const endpointKey = s.endpoints[endpoint];
  if (!endpointKey) {
    return s.error(400, { message: `Invalid value: '${endpoint}'. Supported values are: ${s.endpointsMessage}.`, param: 'endpoint', code: 'invalid_value' });
  }
  if (s.checksCompletionWindow && body.completion_window !== '24h') {
    return s.error(400, { message: `Invalid value: '${String(body.completion_window)}'. Supported values are: '24h'.`, param: 'completion_window', code: 'invalid_value' });
  }
  const metadataError = checkMetadata(body.metadata);
  if (metadataError) return s.error(400, metadataError);
  const outputExpiry = body.output_expires_after as Json | undefined;
  if (outputExpiry !== undefined) {
    const seconds = outputExpiry?.seconds;
    if (outputExpiry?.anchor !== 'created_at') {
      return s.error(400, { message: `Invalid value: '${String(outputExpiry?.anchor)}'. Supported values are: 'created_at'.`, param: 'output_expires_after.anchor', code: 'invalid_value' });
    }
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < s.outputExpiresAfter.min || seconds > s.outputExpiresAfter.max) {
      return s.error(400, {
        message: `Invalid 'output_expires_after.seconds': expected an integer between ${s.outputExpiresAfter.min} and ${s.outputExpiresAfter.max}, but got ${String(seconds)} instead.`,
        param: 'output_expires_after.seconds',
        code: 'invalid_value',
      });
    }
  }
  const refused = s.beforeCreate?.(body);
  if (refused) return refused;

  const batch = s.engine.create({
    input_file_id: body.input_file_id as string,
    endpoint,
    endpointKey,
    completion_window: body.completion_window as string,
    metadata: (body.metadata as Record<string, string> | null | undefined) ?? null,
    output_expires_after: outputExpiry as { anchor: string; seconds: number } | undefined,
  });
  const answer = s.createAnswer(req);
  return { status: answer.status, json: s.render(batch, 'create'), headers: answer.headers };
}

function list(s: BatchesSurface, req: SimRequest): SimReply {
  const limit = req.query.limit === undefined ? 20 : Number(req.query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    return s.error(400, { message: `Invalid 'limit': expected an integer between 1 and 100, but got ${req.query.limit} instead.`, param: 'limit', code: 'invalid_value' });
  }
  const page = s.engine.list(req.query.after, limit);
  return { status: 200, json: s.listEnvelope(page.data.map((b) => s.render(b, 'read')), page.hasMore) };
}
