/** OpenAI's Files API (WIRE.md §1.1) on an OpenAI-shaped upstream. */
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { CallOptions, FileUploadInput, FilesCapability, ProviderFile, ProviderFilePage } from '../../spec/provider.ts';
import { STREAM_WINDOW_BYTES } from '../../spec/stream-window.ts';
import { buildMultipartBody } from '../http/multipart.ts';
import { type CallContext, callJson, callRaw, sendCall, throwUpstreamError } from './call.ts';
import { parseWire } from './normalize.ts';

/** A list answer: `data` and, except on Azure's classic surface (one page of everything), `has_more`. */
const fileListSchema = z.looseObject({ data: z.array(z.unknown()), has_more: z.boolean().nullish() });

export function createFilesCapability(ctx: CallContext): FilesCapability {
  const { config } = ctx;

  async function upload(input: FileUploadInput, options?: CallOptions): Promise<ProviderFile> {
    const fields: Array<readonly [string, string]> = config.uploadFields?.(input) ?? [['purpose', input.purpose]];
    if (input.expiresAfterSeconds !== undefined) fields.push(...config.expiresAfterFields(input.expiresAfterSeconds));
    const multipart = buildMultipartBody(fields, {
      field: 'file',
      filename: input.filename,
      contentType: 'application/octet-stream',
      content: input.content,
      bytes: input.bytes,
    });
    const answer = await callJson(
      ctx,
      {
        method: 'POST',
        operation: { kind: 'fileUpload' },
        what: 'file upload',
        body: multipart.body,
        headers: { 'content-type': multipart.contentType, 'content-length': String(multipart.contentLength) },
      },
      options,
    );
    return config.normalizeFile(answer.body, { bytes: input.bytes, filename: input.filename, purpose: input.purpose });
  }

  async function retrieve(providerFileId: string, options?: CallOptions): Promise<ProviderFile> {
    const answer = await callJson(ctx, { method: 'GET', operation: { kind: 'file', fileId: providerFileId }, what: 'file retrieve' }, options);
    return config.normalizeFile(answer.body);
  }

  async function content(providerFileId: string, options?: CallOptions): Promise<Readable> {
    const response = await callRaw(
      ctx,
      // The SDK asks for `application/binary` and treats the body as raw bytes (WIRE.md §1.1).
      { method: 'GET', operation: { kind: 'fileContent', fileId: providerFileId }, what: 'file content', accept: 'application/binary' },
      options,
    );
    // Re-wrapped so a broken download surfaces as a Portico error, and destroying it closes the upstream.
    return Readable.from(response.body, { objectMode: false, highWaterMark: STREAM_WINDOW_BYTES });
  }

  async function remove(providerFileId: string, options?: CallOptions): Promise<void> {
    const response = await sendCall(ctx, { method: 'DELETE', operation: { kind: 'file', fileId: providerFileId }, what: 'file delete' }, options);
    // Already gone counts as deleted: deletes are retried by a background job.
    if (response.status === 404) {
      await response.body.dump();
      return;
    }
    if (response.status < 200 || response.status >= 300) await throwUpstreamError(ctx, response);
    await response.body.dump();
  }

  async function list(page: { purpose?: string; after?: string; limit: number }, options?: CallOptions): Promise<ProviderFilePage> {
    const query: Record<string, string> = { limit: String(page.limit), order: 'desc' };
    if (page.purpose !== undefined) query.purpose = page.purpose;
    if (page.after !== undefined) query.after = page.after;
    const answer = await callJson(ctx, { method: 'GET', operation: { kind: 'files' }, what: 'file list', query }, options);
    const listed = parseWire(fileListSchema, answer.body, config.label, 'a file list request');
    const files = listed.data.map((raw) => config.normalizeFile(raw));
    // Azure's classic surface answers every file at once, in no promised order.
    if (listed.has_more == null) files.sort((a, b) => b.createdAt - a.createdAt);
    return { files, hasMore: listed.has_more === true };
  }

  return { upload, retrieve, content, delete: remove, list };
}
