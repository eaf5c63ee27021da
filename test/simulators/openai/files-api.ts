/**
 * The Files API routes (`POST/GET /files`, `GET/DELETE /files/{id}`, `GET /files/{id}/content`)
 * for the OpenAI family. OpenAI and Azure's classic and v1 surfaces differ only in the
 * `FilesSurface` they pass (ids, statuses, envelopes, error shape).
 */
import type { SimReply, SimRequest, SimRoute } from '../common/simulator-server.ts';
import { parseMultipart } from '../common/multipart.ts';
import { nowSeconds } from '../common/ids.ts';
import { fileWire } from './file-store.ts';
import type { FileStore, SimulatedFile } from './file-store.ts';
import type { OpenAIErrorFields } from './errors.ts';

type Json = Record<string, unknown>;

export interface FilesSurface {
  /** Path prefix, e.g. `/v1`, `/openai`, `/openai/v1`. */
  prefix: string;
  store: FileStore;
  error(status: number, fields: OpenAIErrorFields): SimReply;
  notFound(id: string): SimReply;
  newFileId(): string;
  uploadPurposes: readonly string[];
  expiresAfter: { min: number; max: number };
  /** Bytes allowed for `purpose=batch` (the Batch API input limit, 200 MB) and for any file (512 MB). */
  maxBatchFileBytes: number;
  maxFileBytes: number;
  /** Lifetime of a `purpose=batch` upload without `expires_after` (OpenAI: 30 days); `null` = none. */
  defaultBatchFileTtl: number | null;
  initialStatus(req: SimRequest): string;
  /** Status code and headers of a successful upload. */
  uploadAnswer(req: SimRequest, file: SimulatedFile): { status: number; headers?: Record<string, string> };
  /** Called on every retrieve (Azure moves pending files along). */
  onRetrieve?(file: SimulatedFile): void;
  render(file: SimulatedFile): Json;
  /** The list envelope; `null` query fields mean the surface does not paginate. */
  listEnvelope(data: Json[], hasMore: boolean): Json;
  /** Whether `order`/`after`/`limit` are honoured (Azure classic 2024-10-21 knows only `purpose`). */
  paginates: boolean;
}

export function filesRoutes(s: FilesSurface): SimRoute[] {
  const p = s.prefix.replace(/\//g, '\\/');
  return [
    { method: 'POST', path: new RegExp(`^${p}/files$`), handle: (req) => upload(s, req) },
    { method: 'GET', path: new RegExp(`^${p}/files$`), handle: (req) => list(s, req) },
    {
      method: 'GET',
      path: new RegExp(`^${p}/files/([^/]+)$`),
      handle: (_req, [id]) => {
        const file = s.store.get(id);
        if (!file) return s.notFound(id);
        s.onRetrieve?.(file);
        return { status: 200, json: s.render(file) };
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^${p}/files/([^/]+)/content$`),
      handle: (_req, [id]) => {
        const file = s.store.get(id);
        if (!file) return s.notFound(id);
        if (file.purpose === 'assistants') {
          return s.error(400, { message: 'Not allowed to download files of purpose: assistants.' });
        }
        return { status: 200, raw: file.content, headers: { 'content-type': 'application/octet-stream' } };
      },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^${p}/files/([^/]+)$`),
      handle: (_req, [id]) => {
        if (!s.store.delete(id)) return s.notFound(id);
        return { status: 200, json: { object: 'file', deleted: true, id } };
      },
    },
  ];
}

function upload(s: FilesSurface, req: SimRequest): SimReply {
  const contentType = String(req.headers['content-type'] ?? '');
  const form = parseMultipart(req.body, contentType);
  if (!form) {
    return s.error(400, {
      message: `Invalid Content-Type header (${contentType || 'none'}), expected multipart/form-data.`,
    });
  }
  const purpose = form.fields.purpose;
  if (purpose === undefined) return s.error(400, { message: "Missing required parameter: 'purpose'.", param: 'purpose', code: 'missing_required_parameter' });
  const file = form.files.find((f) => f.field === 'file');
  if (!file) return s.error(400, { message: "Missing required parameter: 'file'.", param: 'file', code: 'missing_required_parameter' });
  if (!s.uploadPurposes.includes(purpose)) {
    return s.error(400, { message: `'${purpose}' is not one of [${s.uploadPurposes.map((x) => `'${x}'`).join(', ')}] - 'purpose'`, param: 'purpose' });
  }
  if (purpose === 'batch' && !file.filename.toLowerCase().endsWith('.jsonl')) {
    return s.error(400, { message: 'Invalid file format for Batch API. Must be .jsonl' });
  }
  if (file.data.length > (purpose === 'batch' ? s.maxBatchFileBytes : s.maxFileBytes)) {
    return s.error(400, { message: 'File is too large.' });
  }
  const expiry = parseExpiresAfter(s, form.fields);
  if ('reply' in expiry) return expiry.reply;

  const createdAt = nowSeconds();
  const ttl = expiry.seconds ?? (purpose === 'batch' ? s.defaultBatchFileTtl : null);
  const stored = s.store.add({
    id: s.newFileId(),
    object: 'file',
    bytes: file.data.length,
    created_at: createdAt,
    expires_at: ttl === null ? null : createdAt + ttl,
    filename: file.filename,
    purpose,
    status: s.initialStatus(req),
    status_details: null,
    // Copy: the form slices share the request's buffer.
    content: Buffer.from(file.data),
  });
  const answer = s.uploadAnswer(req, stored);
  return { status: answer.status, json: s.render(stored), headers: answer.headers };
}

/**
 * `expires_after` as multipart fields. The SDKs send bracket notation (`expires_after[anchor]`),
 * Azure's docs use dot notation (`expires_after.anchor`); both are read (WIRE.md §1.1).
 */
function parseExpiresAfter(s: FilesSurface, fields: Record<string, string>): { seconds: number | null } | { reply: SimReply } {
  const anchor = fields['expires_after[anchor]'] ?? fields['expires_after.anchor'];
  const secondsText = fields['expires_after[seconds]'] ?? fields['expires_after.seconds'];
  if (anchor === undefined && secondsText === undefined) return { seconds: null };
  if (anchor !== 'created_at') {
    return { reply: s.error(400, { message: `Invalid value: '${anchor ?? ''}'. Supported values are: 'created_at'.`, param: 'expires_after.anchor', code: 'invalid_value' }) };
  }
  const seconds = Number(secondsText);
  if (secondsText === undefined || !Number.isInteger(seconds)) {
    return { reply: s.error(400, { message: "Invalid type for 'expires_after.seconds': expected an integer.", param: 'expires_after.seconds', code: 'invalid_type' }) };
  }
  if (seconds < s.expiresAfter.min) {
    return {
      reply: s.error(400, {
        message: `Invalid 'expires_after.seconds': integer below minimum value. Expected a value greater than or equal to ${s.expiresAfter.min}, but got ${seconds} instead.`,
        param: 'expires_after.seconds',
        code: 'integer_below_min_value',
      }),
    };
  }
  if (seconds > s.expiresAfter.max) {
    return {
      reply: s.error(400, {
        message: `Invalid 'expires_after.seconds': integer above maximum value. Expected a value less than or equal to ${s.expiresAfter.max}, but got ${seconds} instead.`,
        param: 'expires_after.seconds',
        code: 'integer_above_max_value',
      }),
    };
  }
  return { seconds };
}

function list(s: FilesSurface, req: SimRequest): SimReply {
  const q = req.query;
  if (!s.paginates) {
    const { data } = s.store.list({ purpose: q.purpose, order: 'desc', limit: Number.MAX_SAFE_INTEGER });
    return { status: 200, json: s.listEnvelope(data.map(s.render), false) };
  }
  const order = q.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') {
    return s.error(400, { message: `Invalid value: '${order}'. Supported values are: 'asc' and 'desc'.`, param: 'order', code: 'invalid_value' });
  }
  const limit = q.limit === undefined ? 10_000 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    return s.error(400, { message: `Invalid 'limit': expected an integer between 1 and 10000, but got ${q.limit} instead.`, param: 'limit', code: 'invalid_value' });
  }
  const page = s.store.list({ purpose: q.purpose, order, after: q.after, limit });
  return { status: 200, json: s.listEnvelope(page.data.map(s.render), page.hasMore) };
}

/** OpenAI's five-field list envelope (`ListFilesResponse`, `ListBatchesResponse`). */
export function cursorListEnvelope(data: Json[], hasMore: boolean): Json {
  return {
    object: 'list',
    data,
    first_id: data.length ? (data[0].id as string) : null,
    last_id: data.length ? (data[data.length - 1].id as string) : null,
    has_more: hasMore,
  };
}

export { fileWire };
