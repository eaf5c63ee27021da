/**
 * Message Batches routes (`/v1/messages/batches...`). Only the envelope is checked synchronously
 * (custom_id pattern and uniqueness, count and size limits); params are checked when processed.
 */
import type { SimReply, SimRequest, SimRoute } from '../common/simulator-server.ts';
import { anthropicError } from './errors.ts';
import type { BatchRequest, MessageBatchStore } from './message-batches.ts';

type Json = Record<string, unknown>;

const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;

export interface BatchLimits {
  maxRequests: number;
  maxBytes: number;
}

export function messageBatchesRoutes(store: MessageBatchStore, limits: BatchLimits): SimRoute[] {
  const found = (req: SimRequest, id: string, then: (id: string) => SimReply): SimReply =>
    store.batches.has(id) ? then(id) : anthropicError(req, 404, 'Not found');
  return [
    { method: 'POST', path: /^\/v1\/messages\/batches$/, handle: (req) => create(store, limits, req) },
    { method: 'GET', path: /^\/v1\/messages\/batches$/, handle: (req) => list(store, req) },
    {
      method: 'GET',
      path: /^\/v1\/messages\/batches\/([^/]+)$/,
      handle: (req, [id]) => found(req, id, () => ({ status: 200, json: store.batches.get(id) })),
    },
    {
      method: 'POST',
      path: /^\/v1\/messages\/batches\/([^/]+)\/cancel$/,
      handle: (req, [id]) =>
        found(req, id, () => {
          store.cancel(id);
          return { status: 200, json: store.batches.get(id) };
        }),
    },
    {
      method: 'DELETE',
      path: /^\/v1\/messages\/batches\/([^/]+)$/,
      handle: (req, [id]) =>
        found(req, id, () => {
          if (store.batches.get(id)!.processing_status !== 'ended') {
            return anthropicError(req, 400, `Batch ${id} cannot be deleted while it is still processing. Cancel it and wait until processing has ended.`);
          }
          store.delete(id);
          return { status: 200, json: { id, type: 'message_batch_deleted' } };
        }),
    },
    {
      method: 'GET',
      path: /^\/v1\/messages\/batches\/([^/]+)\/results$/,
      handle: (req, [id]) =>
        found(req, id, () => {
          if (store.batches.get(id)!.processing_status !== 'ended') {
            return anthropicError(req, 400, `Batch ${id} has not finished processing. Results are available once processing_status is 'ended'.`);
          }
          return { status: 200, raw: store.resultsJsonl(id), headers: { 'content-type': 'application/x-jsonl' } };
        }),
    },
  ];
}

function create(store: MessageBatchStore, limits: BatchLimits, req: SimRequest): SimReply {
  if (req.bodyTooLarge || req.bodyBytes > limits.maxBytes) return anthropicError(req, 413, 'Request exceeds the maximum allowed number of bytes.');
  if (req.jsonError || !req.json || typeof req.json !== 'object' || Array.isArray(req.json)) {
    return anthropicError(req, 400, 'There was an error parsing the body of your request. Please make sure it is valid JSON.');
  }
  const body = req.json as Json;
  for (const key of Object.keys(body)) if (key !== 'requests') return anthropicError(req, 400, `${key}: Extra inputs are not permitted`);
  if (body.requests === undefined) return anthropicError(req, 400, 'requests: Field required');
  if (!Array.isArray(body.requests)) return anthropicError(req, 400, 'requests: Input should be a valid list');
  const requests = body.requests as Json[];
  if (requests.length === 0) return anthropicError(req, 400, 'requests: List should have at least 1 item after validation, not 0');
  if (requests.length > limits.maxRequests) {
    return anthropicError(req, 400, `requests: List should have at most ${limits.maxRequests} items after validation, not ${requests.length}`);
  }
  const seen = new Set<string>();
  for (const [i, item] of requests.entries()) {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return anthropicError(req, 400, `requests.${i}: Input should be a valid dictionary`);
    for (const key of Object.keys(item)) {
      if (key !== 'custom_id' && key !== 'params') return anthropicError(req, 400, `requests.${i}.${key}: Extra inputs are not permitted`);
    }
    if (item.custom_id === undefined) return anthropicError(req, 400, `requests.${i}.custom_id: Field required`);
    if (typeof item.custom_id !== 'string' || !CUSTOM_ID.test(item.custom_id)) {
      return anthropicError(req, 400, `requests.${i}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`);
    }
    if (item.params === undefined) return anthropicError(req, 400, `requests.${i}.params: Field required`);
    if (!item.params || typeof item.params !== 'object' || Array.isArray(item.params)) {
      return anthropicError(req, 400, `requests.${i}.params: Input should be a valid dictionary`);
    }
    if (seen.has(item.custom_id)) {
      return anthropicError(req, 400, `requests.${i}.custom_id: Duplicate custom_id '${item.custom_id}'. custom_id values must be unique within a batch.`);
    }
    seen.add(item.custom_id);
  }
  return { status: 200, json: store.create(requests as unknown as BatchRequest[]) };
}

function list(store: MessageBatchStore, req: SimRequest): SimReply {
  const limit = req.query.limit === undefined ? 20 : Number(req.query.limit);
  if (!Number.isInteger(limit)) return anthropicError(req, 400, 'limit: Input should be a valid integer');
  if (limit < 1) return anthropicError(req, 400, 'limit: Input should be greater than or equal to 1');
  if (limit > 100) return anthropicError(req, 400, 'limit: Input should be less than or equal to 100');
  const page = store.list({ afterId: req.query.after_id, beforeId: req.query.before_id, limit });
  return {
    status: 200,
    json: { data: page.data, has_more: page.hasMore, first_id: page.data[0]?.id ?? null, last_id: page.data.at(-1)?.id ?? null },
  };
}
