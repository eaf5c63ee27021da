/**
 * Receives a transcription or translation form (`multipart/form-data`: the audio `file`, `model`
 * and OpenAI's other fields, in any order). The file is written to a temporary file as it arrives
 * (at most `MAX_AUDIO_FILE_BYTES`, OpenAI's own limit: a 413 above it), never held in memory, and
 * read again for each attempt upstream. `dispose` removes it; the route calls it when the response
 * closes, whatever happened.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readMultipartUpload } from '../managed/files/multipart-upload.ts';
import { type AudioUpload, MAX_AUDIO_FILE_BYTES } from '../spec/audio.ts';
import { InvalidRequestError, PayloadTooLargeError } from '../spec/errors.ts';

export interface ReceivedAudioForm {
  readonly model: string;
  /** The form as the provider gets it: `model` left out. */
  readonly upload: AudioUpload;
  /** The form's text fields by name (the last of a repeated one), for the route's checks. */
  readonly fields: Readonly<Record<string, string>>;
  /**
   * The audio's length in seconds, read from the file itself (`music-metadata`: WAV, MP3, M4A,
   * Ogg, FLAC, WebM), for an answer that does not say it (a whisper-1 transcript as text or
   * subtitles, a translation); undefined when the file does not tell. Measured once, on demand.
   */
  seconds(): Promise<number | undefined>;
}

interface SpooledFile {
  readonly directory: string;
  readonly path: string;
  readonly bytes: number;
  readonly contentType: string;
}

/** OpenAI's array fields, sent once per element (`timestamp_granularities[]=word`, ...). */
const isArrayField = (name: string): boolean => name.endsWith('[]');

/**
 * Reads the form. `onDispose` receives the clean-up of what was written before anything is; the
 * caller runs it once the response is done (a failure here has already cleaned up).
 */
export async function receiveAudioForm(request: IncomingMessage, onDispose: (dispose: () => Promise<void>) => void): Promise<ReceivedAudioForm> {
  const form = await readMultipartUpload<SpooledFile>(
    request.headers,
    request,
    (part) => spool(part.stream, part.mimeType, part.filename),
    (spooled) => removeDirectory(spooled.directory),
    { expects: "a 'file' and a 'model'", repeatable: isArrayField },
  );
  const spooled = form.stored;
  let measuring: Promise<number | undefined> | undefined;
  // A measurement under way finishes before its file goes.
  onDispose(async () => {
    await measuring;
    await removeDirectory(spooled.directory);
  });
  const model = form.fields.model;
  if (model === undefined || model === '') throw new InvalidRequestError("Missing required parameter: 'model'.", { param: 'model', code: 'missing_required_parameter' });
  return {
    model,
    fields: form.fields,
    seconds: () => (measuring ??= secondsOf(spooled.path)),
    upload: {
      fields: form.fieldList.filter(([name]) => name !== 'model'),
      file: {
        filename: form.filename,
        contentType: spooled.contentType,
        bytes: spooled.bytes,
        open: () => createReadStream(spooled.path),
      },
    },
  };
}

async function spool(source: NodeJS.ReadableStream, mimeType: string | undefined, filename: string): Promise<SpooledFile> {
  const directory = await mkdtemp(join(tmpdir(), 'portico-audio-'));
  // The client's extension (only letters and digits) tells the duration reader the container.
  const extension = /\.([a-z0-9]{1,8})$/i.exec(filename)?.[1];
  const path = join(directory, extension === undefined ? 'audio' : `audio.${extension.toLowerCase()}`);
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.byteLength;
      if (bytes > MAX_AUDIO_FILE_BYTES) {
        done(new PayloadTooLargeError(`The audio file is larger than ${MAX_AUDIO_FILE_BYTES} bytes (25 MB), the most a transcription or translation takes.`, { param: 'file', code: 'file_too_large' }));
        return;
      }
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, counter, createWriteStream(path));
  } catch (error) {
    await removeDirectory(directory);
    // Drain the rest of the part so that the parser can reach the end of the form (or its failure).
    if ('resume' in source && typeof source.resume === 'function') source.resume();
    throw error;
  }
  return { directory, path, bytes, contentType: mimeType === undefined || mimeType === '' ? 'application/octet-stream' : mimeType };
}

/**
 * The audio's duration by its container's headers (music-metadata, loaded on first use: a gateway
 * that never meters audio this way never loads it); undefined for a file it cannot read.
 */
async function secondsOf(path: string): Promise<number | undefined> {
  try {
    const { parseFile } = await import('music-metadata');
    const metadata = await parseFile(path, { duration: true, skipCovers: true });
    const seconds = metadata.format.duration;
    return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
  } catch {
    // Not audio it knows (or not audio at all: the upstream answered anyway).
    return undefined;
  }
}

function removeDirectory(directory: string): Promise<void> {
  return rm(directory, { recursive: true, force: true }).catch(() => undefined);
}
