/**
 * The Gemini Files API (https://ai.google.dev/api/files; docs/specs/gemini-api.md §Files):
 * resumable upload (`POST /upload/v1beta/files` with `X-Goog-Upload-Command: start`, then the
 * bytes to the session URL in chunks, `upload` ... `upload, finalize`, each at its
 * `X-Goog-Upload-Offset`), `files.get`, `files.list` (`pageSize`, `pageToken`), `files.delete`,
 * and the download used for batch results (`GET /download/v1beta/files/{id}:download?alt=media`,
 * also served without the `/download` prefix, where the SDK asks).
 */
import { createHash } from 'node:crypto';
import { randomBase62 } from '../common/ids.ts';
import type { SimReply, SimRequest, SimRoute } from '../common/simulator-server.ts';
import { googleError } from './errors.ts';

export interface StoredFile {
  name: string;
  displayName?: string;
  mimeType: string;
  sizeBytes: string;
  createTime: string;
  updateTime: string;
  expirationTime: string;
  sha256Hash: string;
  uri: string;
  state: 'ACTIVE';
  source: 'UPLOADED' | 'GENERATED';
  bytes: Buffer;
}

interface UploadSession {
  displayName?: string;
  mimeType: string;
  declaredBytes: number;
  chunks: Buffer[];
  received: number;
}

/** Files live 48 hours (Files API docs). */
const FILE_LIFETIME_MS = 48 * 3600 * 1000;

export class GeminiFileStore {
  readonly files = new Map<string, StoredFile>();
  readonly #sessions = new Map<string, UploadSession>();
  #origin = '';

  setOrigin(origin: string): void {
    this.#origin = origin;
  }

  /** Stores bytes the service made itself (a batch's responses file). */
  addGenerated(bytes: Buffer, displayName: string): StoredFile {
    return this.#store(bytes, { displayName, mimeType: 'application/jsonl', source: 'GENERATED' });
  }

  get(name: string): StoredFile | undefined {
    return this.files.get(name);
  }

  #store(bytes: Buffer, meta: { displayName?: string; mimeType: string; source: StoredFile['source'] }): StoredFile {
    const id = randomBase62(12).toLowerCase();
    const now = new Date();
    const file: StoredFile = {
      name: `files/${id}`,
      ...(meta.displayName !== undefined ? { displayName: meta.displayName } : {}),
      mimeType: meta.mimeType,
      sizeBytes: String(bytes.length),
      createTime: now.toISOString(),
      updateTime: now.toISOString(),
      expirationTime: new Date(now.getTime() + FILE_LIFETIME_MS).toISOString(),
      sha256Hash: createHash('sha256').update(bytes).digest('base64'),
      uri: `${this.#origin}/v1beta/files/${id}`,
      state: 'ACTIVE',
      source: meta.source,
      bytes,
    };
    this.files.set(file.name, file);
    return file;
  }

  routes(): SimRoute[] {
    return [
      { method: 'POST', path: /^\/upload\/v1beta\/files$/, handle: (req) => this.#upload(req) },
      { method: 'GET', path: /^\/v1beta\/files$/, handle: (req) => this.#list(req) },
      { method: 'GET', path: /^\/v1beta\/files\/([^/:]+)$/, handle: (_req, [id]) => this.#get(id) },
      { method: 'DELETE', path: /^\/v1beta\/files\/([^/:]+)$/, handle: (_req, [id]) => this.#delete(id) },
      // The batch guide downloads under /download/v1beta; the SDK (`files.download`) under /v1beta.
      { method: 'GET', path: /^(?:\/download)?\/v1beta\/files\/([^/:]+):download$/, handle: (req, [id]) => this.#download(req, id) },
    ];
  }

  #upload(req: SimRequest): SimReply {
    const command = String(req.headers['x-goog-upload-command'] ?? '').toLowerCase();
    if (command === 'start') {
      if (String(req.headers['x-goog-upload-protocol'] ?? '').toLowerCase() !== 'resumable') return googleError(400, 'Upload protocol must be resumable.');
      const declared = Number(req.headers['x-goog-upload-header-content-length']);
      if (!Number.isInteger(declared) || declared < 0) return googleError(400, 'X-Goog-Upload-Header-Content-Length is required.');
      const meta = isObject(req.json) && isObject(req.json.file) ? req.json.file : {};
      const displayName = typeof meta.displayName === 'string' ? meta.displayName : typeof meta.display_name === 'string' ? meta.display_name : undefined;
      const mimeType = String(req.headers['x-goog-upload-header-content-type'] ?? meta.mimeType ?? 'application/octet-stream');
      const uploadId = randomBase62(24);
      this.#sessions.set(uploadId, { displayName, mimeType, declaredBytes: declared, chunks: [], received: 0 });
      return { status: 200, raw: '', headers: { 'x-goog-upload-url': `${this.#origin}/upload/v1beta/files?upload_id=${uploadId}&upload_protocol=resumable`, 'x-goog-upload-status': 'active', 'content-type': 'text/plain' } };
    }
    const session = req.query.upload_id === undefined ? undefined : this.#sessions.get(req.query.upload_id);
    if (session === undefined) return googleError(404, 'Upload session not found.');
    if (!/upload/.test(command)) return googleError(400, `Unknown X-Goog-Upload-Command '${command}'.`);
    const offset = Number(req.headers['x-goog-upload-offset']);
    if (offset !== session.received) return googleError(400, `X-Goog-Upload-Offset ${String(req.headers['x-goog-upload-offset'])} does not match the ${session.received} bytes received.`);
    session.chunks.push(req.body);
    session.received += req.body.length;
    if (!/finalize/.test(command)) return { status: 200, raw: '', headers: { 'x-goog-upload-status': 'active', 'content-type': 'text/plain' } };
    this.#sessions.delete(req.query.upload_id!);
    if (session.received !== session.declaredBytes) return googleError(400, `Received ${session.received} bytes; ${session.declaredBytes} were announced.`);
    const file = this.#store(Buffer.concat(session.chunks), { displayName: session.displayName, mimeType: session.mimeType, source: 'UPLOADED' });
    return { status: 200, json: { file: view(file) }, headers: { 'x-goog-upload-status': 'final' } };
  }

  #list(req: SimRequest): SimReply {
    const all = [...this.files.values()].reverse();
    const size = Math.min(Number(req.query.pageSize ?? 10) || 10, 100);
    const start = req.query.pageToken ? Number(req.query.pageToken) : 0;
    const page = all.slice(start, start + size);
    return { status: 200, json: { files: page.map(view), ...(start + size < all.length ? { nextPageToken: String(start + size) } : {}) } };
  }

  #get(id: string): SimReply {
    const file = this.files.get(`files/${id}`);
    return file ? { status: 200, json: view(file) } : googleError(403, `You do not have permission to access the File ${id} or it may not exist.`);
  }

  #delete(id: string): SimReply {
    if (!this.files.delete(`files/${id}`)) return googleError(403, `You do not have permission to access the File ${id} or it may not exist.`);
    return { status: 200, json: {} };
  }

  #download(req: SimRequest, id: string): SimReply {
    if (req.query.alt !== 'media') return googleError(400, 'Downloads need alt=media.');
    const file = this.files.get(`files/${id}`);
    if (!file) return googleError(404, `File ${id} not found.`);
    return { status: 200, raw: file.bytes, headers: { 'content-type': file.mimeType } };
  }
}

/** A File as the API shows it (without the bytes). */
export function view(file: StoredFile): Record<string, unknown> {
  const { bytes: _bytes, ...shown } = file;
  return shown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
