/**
 * The Cloud Storage JSON API's object calls (https://cloud.google.com/storage/docs/json_api/v1/objects,
 * upload protocols at https://cloud.google.com/storage/docs/uploading-objects; docs/specs/vertex-ai.md
 * §Cloud Storage), enough for batch staging and the official `@google-cloud/storage` client:
 *
 * - `POST /upload/storage/v1/b/{bucket}/o?uploadType=media&name=` (the body is the object) and
 *   `uploadType=multipart` (`multipart/related`: the JSON metadata, then the media);
 * - `GET /storage/v1/b/{bucket}/o/{object}` (the resource) and `?alt=media` (the bytes, with
 *   `x-goog-hash: md5=`); `GET /storage/v1/b/{bucket}/o?prefix=&pageToken=&maxResults=` (`items`
 *   in name order, `nextPageToken`); `DELETE /storage/v1/b/{bucket}/o/{object}` (204).
 *
 * Errors are Google's `{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}`.
 * Buckets are created on first write.
 */
import { createHash } from 'node:crypto';
import type { SimReply, SimRequest, SimRoute } from '../common/simulator-server.ts';

export interface StoredObject {
  bucket: string;
  name: string;
  bytes: Buffer;
  contentType: string;
  generation: string;
  created: string;
}

export function gcsError(code: number, message: string, reason: string): SimReply {
  return { status: code, json: { error: { code, message, errors: [{ domain: 'global', reason, message }] } } };
}

export class CloudStorage {
  /** Objects by `bucket/name`. */
  readonly objects = new Map<string, StoredObject>();
  #origin = '';

  setOrigin(origin: string): void {
    this.#origin = origin;
  }

  put(bucket: string, name: string, bytes: Buffer, contentType = 'application/octet-stream'): StoredObject {
    const object: StoredObject = { bucket, name, bytes, contentType, generation: String(Date.now() * 1000 + Math.floor(Math.random() * 1000)), created: new Date().toISOString() };
    this.objects.set(`${bucket}/${name}`, object);
    return object;
  }

  get(bucket: string, name: string): StoredObject | undefined {
    return this.objects.get(`${bucket}/${name}`);
  }

  list(bucket: string, prefix: string): StoredObject[] {
    return [...this.objects.values()].filter((o) => o.bucket === bucket && o.name.startsWith(prefix)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  resource(object: StoredObject): Record<string, unknown> {
    const path = `b/${encodeURIComponent(object.bucket)}/o/${encodeURIComponent(object.name)}`;
    return {
      kind: 'storage#object',
      id: `${object.bucket}/${object.name}/${object.generation}`,
      selfLink: `${this.#origin}/storage/v1/${path}`,
      mediaLink: `${this.#origin}/download/storage/v1/${path}?generation=${object.generation}&alt=media`,
      name: object.name,
      bucket: object.bucket,
      generation: object.generation,
      metageneration: '1',
      contentType: object.contentType,
      storageClass: 'STANDARD',
      size: String(object.bytes.length),
      md5Hash: md5(object.bytes),
      crc32c: crc32c(object.bytes),
      etag: `C${object.generation}EAE=`,
      timeCreated: object.created,
      updated: object.created,
    };
  }

  routes(): SimRoute[] {
    return [
      { method: 'POST', path: /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/, handle: (req, [bucket]) => this.#upload(req, bucket) },
      { method: 'GET', path: /^\/storage\/v1\/b\/([^/]+)\/o$/, handle: (req, [bucket]) => this.#list(req, bucket) },
      { method: 'GET', path: /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/, handle: (req, [bucket, name]) => this.#get(req, bucket, name) },
      { method: 'DELETE', path: /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/, handle: (_req, [bucket, name]) => this.#delete(bucket, name) },
    ];
  }

  #upload(req: SimRequest, bucket: string): SimReply {
    const type = req.query.uploadType;
    if (type === 'media') {
      const name = req.query.name;
      if (!name) return gcsError(400, 'Required parameter: name', 'required');
      const object = this.put(bucket, name, req.body, String(req.headers['content-type'] ?? 'application/octet-stream'));
      return { status: 200, json: this.resource(object) };
    }
    if (type === 'multipart') {
      const parts = multipartRelated(req);
      if (parts === null || parts.length !== 2) return gcsError(400, 'Invalid multipart request.', 'invalid');
      let metadata: Record<string, unknown>;
      try {
        metadata = JSON.parse(parts[0].body.toString('utf8')) as Record<string, unknown>;
      } catch {
        return gcsError(400, 'Invalid JSON in the metadata part.', 'parseError');
      }
      const name = typeof metadata.name === 'string' ? metadata.name : req.query.name;
      if (!name) return gcsError(400, 'Required parameter: name', 'required');
      const contentType = typeof metadata.contentType === 'string' ? metadata.contentType : (parts[1].contentType ?? 'application/octet-stream');
      return { status: 200, json: this.resource(this.put(bucket, name, parts[1].body, contentType)) };
    }
    return gcsError(400, `Unsupported upload type: ${type ?? '(none)'}`, 'invalidParameter');
  }

  #list(req: SimRequest, bucket: string): SimReply {
    const prefix = req.query.prefix ?? '';
    const max = Math.min(Number(req.query.maxResults ?? 1000) || 1000, 1000);
    const all = this.list(bucket, prefix);
    const start = req.query.pageToken ? Number(Buffer.from(req.query.pageToken, 'base64url').toString('utf8')) : 0;
    const page = all.slice(start, start + max);
    const body: Record<string, unknown> = { kind: 'storage#objects', items: page.map((o) => this.resource(o)) };
    if (start + max < all.length) body.nextPageToken = Buffer.from(String(start + max)).toString('base64url');
    if (page.length === 0) delete body.items;
    return { status: 200, json: body };
  }

  #get(req: SimRequest, bucket: string, name: string): SimReply {
    const object = this.get(bucket, name);
    if (object === undefined) return gcsError(404, `No such object: ${bucket}/${name}`, 'notFound');
    if (req.query.alt === 'media') {
      return { status: 200, raw: object.bytes, headers: { 'content-type': object.contentType, 'x-goog-hash': `crc32c=${crc32c(object.bytes)},md5=${md5(object.bytes)}`, 'x-goog-generation': object.generation, 'x-goog-stored-content-length': String(object.bytes.length) } };
    }
    return { status: 200, json: this.resource(object) };
  }

  #delete(bucket: string, name: string): SimReply {
    if (!this.objects.delete(`${bucket}/${name}`)) return gcsError(404, `No such object: ${bucket}/${name}`, 'notFound');
    return { status: 204, raw: '' };
  }
}

/** CRC32C (Castagnoli), big-endian, base64: the checksum GCS reports and its clients verify. */
const CRC32C_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32c(bytes: Buffer): string {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC32C_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('base64');
}

/** The parts of a `multipart/related` body (RFC 2387), each with its content type. */
function multipartRelated(req: SimRequest): { contentType?: string; body: Buffer }[] | null {
  const boundary = /boundary="?([^";]+)"?/i.exec(String(req.headers['content-type'] ?? ''))?.[1];
  if (boundary === undefined) return null;
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { contentType?: string; body: Buffer }[] = [];
  let position = req.body.indexOf(delimiter);
  while (position >= 0) {
    const start = position + delimiter.length;
    if (req.body.subarray(start, start + 2).toString() === '--') break;
    const next = req.body.indexOf(delimiter, start);
    if (next < 0) return null;
    const part = req.body.subarray(start, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) return null;
    const headers = part.subarray(0, headerEnd).toString('utf8');
    let body = part.subarray(headerEnd + 4);
    if (body.subarray(body.length - 2).toString() === '\r\n') body = body.subarray(0, body.length - 2);
    parts.push({ contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim(), body });
    position = next;
  }
  return parts;
}
