/**
 * Streams a `multipart/form-data` file upload (`POST /v1/files`). The file part is handed to a
 * sink as it arrives, never buffered: the official SDKs may send `file` before `purpose`, so the
 * fields are only known once the whole body has been read.
 * busboy: the streaming multipart parser Fastify's own plugin is built on; we use it directly
 * to keep control of where the bytes go.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { InvalidRequestError } from '../../spec/errors.ts';
import { STREAM_WINDOW_BYTES } from '../../spec/stream-window.ts';

export interface UploadedFilePart {
  stream: Readable;
  filename: string;
  mimeType: string;
}

export interface MultipartUpload<T> {
  fields: Record<string, string>;
  /** Every text field in the order received, a repeated one (`include[]`) each time. */
  fieldList: Array<readonly [string, string]>;
  filename: string;
  /** What the sink returned for the file part. */
  stored: T;
}

const MAX_FIELDS = 32;
const MAX_FIELD_BYTES = 64 * 1024;

export interface MultipartUploadOptions {
  /** What the form must carry, for the error on a body that is not a form ("a 'file' and a 'purpose'"). */
  readonly expects?: string;
  /** Field names that may be sent more than once (OpenAI's array fields: `timestamp_granularities[]`). */
  readonly repeatable?: (name: string) => boolean;
  /** The file part's field name: `file` (the Files API), `data` (a part of an Upload). */
  readonly fileField?: string;
}

/**
 * Reads the body, handing the single `file` part to `sink`. If the request fails after the sink
 * succeeded, `discard` is called with its result so nothing half-written stays behind.
 */
export function readMultipartUpload<T>(
  headers: IncomingHttpHeaders,
  body: Readable,
  sink: (part: UploadedFilePart, fieldsSoFar: Readonly<Record<string, string>>) => Promise<T>,
  discard: (stored: T) => Promise<void>,
  options: MultipartUploadOptions = {},
): Promise<MultipartUpload<T>> {
  const contentType = headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(contentType)) {
    return Promise.reject(new InvalidRequestError(`The request must be multipart/form-data with ${options.expects ?? "a 'file' and a 'purpose'"}.`));
  }
  // The client may have gone while the caller awaited something (a quota lookup): its close
  // has been and gone, no event will come, and a parser fed nothing would wait forever.
  if (body.destroyed) return Promise.reject(new InvalidRequestError('The upload was interrupted.'));
  let parser: busboy.Busboy;
  try {
    // The parser's input and the file part are streams of the upload's window (`spec/stream-window.ts`):
    // busboy stops taking the request's bytes while the file part holds a window unread.
    parser = busboy({
      headers,
      highWaterMark: STREAM_WINDOW_BYTES,
      fileHwm: STREAM_WINDOW_BYTES,
      limits: { fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, files: 1, parts: MAX_FIELDS + 1 },
    });
  } catch {
    return Promise.reject(new InvalidRequestError('Malformed multipart/form-data request.'));
  }

  const fileField = options.fileField ?? 'file';
  return new Promise<MultipartUpload<T>>((resolve, reject) => {
    const fields: Record<string, string> = {};
    const fieldList: Array<readonly [string, string]> = [];
    let filePart: Promise<{ filename: string; stored: T }> | undefined;
    let fileStream: Readable | undefined;
    let failure: unknown;
    let settled = false;

    const fail = (error: unknown) => {
      failure ??= error;
      body.unpipe(parser);
      body.resume();
      // No more bytes will reach the file part: end it with the error, or the sink would wait
      // for them forever, holding its write stream, descriptor and temporary file (or
      // unfinished blob row). The sink's failure path then removes what it wrote.
      if (fileStream && !fileStream.readableEnded && !fileStream.destroyed) fileStream.destroy(asError(failure));
      void finish();
    };

    const finish = async () => {
      if (settled) return;
      settled = true;
      const file = filePart ? await filePart.catch((error: unknown) => ((failure ??= error), undefined)) : undefined;
      if (failure !== undefined || !file) {
        if (file) await discard(file.stored).catch(() => undefined);
        reject(failure ?? new InvalidRequestError(`Missing required parameter: '${fileField}'.`, { param: fileField, code: 'missing_required_parameter' }));
        return;
      }
      resolve({ fields, fieldList, filename: file.filename, stored: file.stored });
    };

    // busboy passes `name` as undefined for a part whose Content-Disposition names none (typed
    // as a string, it is not): refused before anything reads it as one.
    parser.on('field', (name: string | undefined, value, info) => {
      if (name === undefined) return fail(unnamedPart());
      if (info.valueTruncated) return fail(new InvalidRequestError(`The form field '${name.slice(0, 64)}' is too long.`, { param: name.slice(0, 64) }));
      // A field sent twice (`purpose` before and after the file) has no one meaning: refuse it
      // rather than let the value the file was checked against differ from the one stored.
      if (Object.hasOwn(fields, name) && options.repeatable?.(name) !== true) {
        return fail(new InvalidRequestError(`The form field '${name.slice(0, 64)}' was given more than once.`, { param: name.slice(0, 64) }));
      }
      fields[name] = value;
      fieldList.push([name, value]);
    });
    parser.on('file', (name: string | undefined, stream, info) => {
      // Once failed, the body is no longer read: a part busboy still finds in the data it holds
      // would never end, and a sink given it would hold its write stream (a descriptor) for good.
      if (failure !== undefined) {
        stream.resume();
        return;
      }
      if (name === undefined) {
        stream.resume();
        return fail(unnamedPart());
      }
      if (name !== fileField || filePart) {
        stream.resume();
        if (name !== fileField) return fail(new InvalidRequestError(`Unexpected file field '${name.slice(0, 64)}'; the file must be sent as '${fileField}'.`, { param: name.slice(0, 64) }));
        return fail(new InvalidRequestError('Only one file may be uploaded per request.', { param: fileField }));
      }
      const filename = (info.filename ?? '').trim() || 'upload';
      fileStream = stream;
      // `fail` may end the part with an error before the sink has attached its listeners (it
      // awaits its store first): the failure is already recorded, and a destroyed stream is
      // seen as failed by whatever pipes it later.
      stream.on('error', () => undefined);
      filePart = sink({ stream, filename, mimeType: info.mimeType }, { ...fields }).then((stored) => ({ filename, stored }));
      // Keep the parser flowing if the sink fails early; the error surfaces in finish().
      filePart.catch((error: unknown) => {
        stream.resume();
        fail(error);
      });
    });
    parser.on('fieldsLimit', () => fail(new InvalidRequestError('Too many form fields.')));
    // busboy stops at `files: 1` and skips a second file part without a 'file' event: without this
    // the upload would succeed with the first file and the second silently dropped.
    parser.on('filesLimit', () => fail(new InvalidRequestError('Only one file may be uploaded per request.', { param: fileField })));
    parser.on('partsLimit', () => fail(new InvalidRequestError('Too many form parts.')));
    parser.on('error', () => fail(new InvalidRequestError('Malformed multipart/form-data request.')));
    parser.on('close', () => void finish());
    body.on('error', (error) => fail(error));
    body.on('aborted', () => fail(new InvalidRequestError('The upload was interrupted.')));
    // A socket closed before the whole body arrived, however it is reported.
    body.on('close', () => {
      if (!body.readableEnded) fail(new InvalidRequestError('The upload was interrupted.'));
    });
    body.pipe(parser);
  });
}

function unnamedPart(): InvalidRequestError {
  return new InvalidRequestError('Every form part needs a name (Content-Disposition: form-data; name="...").');
}

function asError(failure: unknown): Error {
  return failure instanceof Error ? failure : new Error(String(failure));
}
