/**
 * A streamed `multipart/form-data` body: text fields, then one file part whose bytes are pulled
 * from a `Readable` as the upstream socket drains. Nothing is buffered beyond one chunk, so a
 * 200 MB batch file uploads with flat memory (issue 3, "memory stays flat whatever the size").
 * Hand-rolled boundary framing (RFC 7578) because it also yields an exact Content-Length.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { STREAM_WINDOW_BYTES } from '../../spec/stream-window.ts';

export interface MultipartFile {
  field: string;
  filename: string;
  contentType: string;
  content: Readable;
  /** Exact size of `content`; the body's Content-Length is computed from it. */
  bytes: number;
}

export interface MultipartBody {
  body: Readable;
  contentType: string;
  contentLength: number;
}

/** Quotes a header parameter value (`name`, `filename`): no CR/LF, escaped quote. */
function quoteParam(value: string): string {
  return `"${value.replace(/[\r\n]/g, ' ').replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function buildMultipartBody(fields: ReadonlyArray<readonly [string, string]>, file: MultipartFile): MultipartBody {
  const boundary = `----PorticoBoundary${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=${quoteParam(name)}\r\n\r\n${value}\r\n`, 'utf8'));
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name=${quoteParam(file.field)}; filename=${quoteParam(file.filename)}\r\n` +
        `Content-Type: ${file.contentType}\r\n\r\n`,
      'utf8',
    ),
  );
  const head = Buffer.concat(parts);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');

  async function* frame(): AsyncGenerator<Uint8Array> {
    yield head;
    let sent = 0;
    for await (const chunk of file.content) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
      sent += bytes.byteLength;
      yield bytes;
    }
    if (sent !== file.bytes) {
      throw new Error(`multipart file part: expected ${file.bytes} bytes, the source gave ${sent}`);
    }
    yield tail;
  }

  // undici writes the body only as the socket drains; the frame reads the source only while
  // this stream is under its window (`spec/stream-window.ts`).
  const body = Readable.from(frame(), { objectMode: false, highWaterMark: STREAM_WINDOW_BYTES });
  // Destroying the body (request aborted) must stop reading the source file too.
  body.once('close', () => {
    if (!file.content.destroyed && !file.content.readableEnded) file.content.destroy();
  });
  return {
    body,
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength: head.byteLength + file.bytes + tail.byteLength,
  };
}
