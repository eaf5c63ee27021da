/**
 * A model request that names one of the caller's files by id, as OpenAI's SDKs let it (a chat
 * message's `{type: "file", file: {file_id}}`, a Responses input's `{type: "input_file", file_id}`
 * or `{type: "input_image", file_id}`), is sent with the file's bytes inline instead (a base64
 * data URL in `file_data` / `image_url`): the gateway's file ids mean nothing upstream, and every
 * provider takes inline files (Anthropic documents, Gemini inline data, OpenAI itself). So a file
 * uploaded once through `POST /v1/files` (or the Uploads API) is usable on every model.
 *
 * Only ids of the gateway's form are looked up; one that is not in its store (a provider's own
 * id) goes upstream as sent. One that is, but is not the caller's, is a 404 exactly like a
 * missing file. The bytes sent inline are bounded per request (`MAX_INLINE_BYTES`).
 */
import type { Readable } from 'node:stream';
import { InvalidRequestError, NotFoundError } from '../../spec/errors.ts';
import { canAccess, type Principal } from '../../spec/principal.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { FileRecord, FileStore } from '../../storage/file-store.ts';
import { unixSeconds } from '../../storage/row-mapping.ts';
import { isFileId } from '../ids.ts';

type Json = Record<string, unknown>;

/** Bytes of files one request may carry inline, all files together (OpenAI takes 32 MB of file input per request). */
export const MAX_INLINE_BYTES = 32 * 1024 * 1024;

/** Media types by file extension; anything else is sent as `application/octet-stream`. */
const MEDIA_TYPES: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  jsonl: 'application/jsonl',
  html: 'text/html',
  xml: 'application/xml',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function mediaTypeOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return (dot === -1 ? undefined : MEDIA_TYPES[filename.slice(dot + 1).toLowerCase()]) ?? 'application/octet-stream';
}

/** A part that names a file by id, and how to write it with the file's data URL. */
interface FilePart {
  readonly fileId: string;
  replace(dataUrl: string, filename: string): void;
}

/** The content parts of a chat request or a Responses request that name a file by an id of the gateway's form. */
function filePartsOf(route: string, body: Json): FilePart[] {
  const found: FilePart[] = [];
  const visit = (content: unknown) => {
    if (!Array.isArray(content)) return;
    content.forEach((part: unknown, index) => {
      if (!isObject(part)) return;
      if (route === '/chat/completions' && part.type === 'file' && isObject(part.file) && typeof part.file.file_id === 'string' && isFileId(part.file.file_id)) {
        const { file_id: _id, ...rest } = part.file;
        found.push({ fileId: part.file.file_id, replace: (dataUrl, filename) => (content[index] = { ...part, file: { ...rest, filename: rest.filename ?? filename, file_data: dataUrl } }) });
      } else if (route === '/responses' && part.type === 'input_file' && typeof part.file_id === 'string' && isFileId(part.file_id)) {
        const { file_id: _id, ...rest } = part;
        found.push({ fileId: part.file_id, replace: (dataUrl, filename) => (content[index] = { ...rest, filename: rest.filename ?? filename, file_data: dataUrl }) });
      } else if (route === '/responses' && part.type === 'input_image' && typeof part.file_id === 'string' && isFileId(part.file_id)) {
        const { file_id: _id, ...rest } = part;
        found.push({ fileId: part.file_id, replace: (dataUrl) => (content[index] = { ...rest, image_url: dataUrl }) });
      }
    });
  };
  if (route === '/chat/completions' && Array.isArray(body.messages)) for (const message of body.messages) if (isObject(message)) visit(message.content);
  if (route === '/responses' && Array.isArray(body.input)) for (const item of body.input) if (isObject(item)) visit(item.content);
  return found;
}

async function readAll(stream: Readable, limit: number, fileId: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += (chunk as Buffer).length;
    if (bytes > limit) {
      stream.destroy();
      throw tooLarge(fileId);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(fileId: string): InvalidRequestError {
  return new InvalidRequestError(`The files of this request are too large to send to the model inline (at most ${MAX_INLINE_BYTES} bytes in all); ${fileId} passes that.`, { param: 'file_id', code: 'file_too_large' });
}

export interface FileReferencesDeps {
  readonly files: Pick<FileStore, 'getActive'>;
  readonly blobs: Pick<BlobStore, 'get'>;
}

export class FileReferences {
  readonly #deps: FileReferencesDeps;

  constructor(deps: FileReferencesDeps) {
    this.#deps = deps;
  }

  /**
   * `body` (the upstream body of a `route` request, `/chat/completions` or `/responses`) with the
   * caller's files it names by id sent inline; undefined when it names none (the usual case,
   * answered without a wait).
   */
  inline(route: string, body: Json, principal: Principal): Promise<Json> | undefined {
    if (route !== '/chat/completions' && route !== '/responses') return undefined;
    // Looked for in the body first (nothing copied for the usual request, which names no file),
    // then replaced in a copy of the lists they sit in: the client's body is left as it came.
    if (filePartsOf(route, body).length === 0) return undefined;
    const copy = route === '/chat/completions' ? { ...body, messages: copyContents(body.messages) } : { ...body, input: copyContents(body.input) };
    return this.#inline(copy, filePartsOf(route, copy), principal);
  }

  async #inline(body: Json, parts: readonly FilePart[], principal: Principal): Promise<Json> {
    const files = new Map<string, FileRecord>();
    for (const id of new Set(parts.map((part) => part.fileId))) {
      const file = await this.#deps.files.getActive(id);
      if (file === undefined) continue;
      if (!canAccess(principal, file.owner) || (file.expiresAt !== null && file.expiresAt <= unixSeconds())) {
        throw new NotFoundError(`No such File object: ${id}`, { param: 'file_id' });
      }
      if (file.blobKey === null) throw new InvalidRequestError(`The file ${id} is kept only at a provider, and cannot be sent to a model from here.`, { param: 'file_id' });
      files.set(id, file);
    }
    let budget = MAX_INLINE_BYTES;
    const dataUrls = new Map<string, string>();
    for (const [id, file] of files) {
      if (file.bytes > budget) throw tooLarge(id);
      const bytes = await readAll(await this.#deps.blobs.get(file.blobKey as string), budget, id);
      budget -= bytes.length;
      dataUrls.set(id, `data:${mediaTypeOf(file.filename)};base64,${bytes.toString('base64')}`);
    }
    for (const part of parts) {
      const dataUrl = dataUrls.get(part.fileId);
      if (dataUrl !== undefined) part.replace(dataUrl, (files.get(part.fileId) as FileRecord).filename);
    }
    return body;
  }
}

/** A list of messages or input items, each with its own copy of its `content` list. */
function copyContents(list: unknown): unknown {
  if (!Array.isArray(list)) return list;
  return list.map((entry) => (isObject(entry) && Array.isArray(entry.content) ? { ...entry, content: [...entry.content] } : entry));
}
