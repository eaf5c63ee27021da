/**
 * OpenAI's audio endpoints on an OpenAI-shaped upstream (OpenAI, Azure OpenAI's Whisper and TTS
 * deployments, OpenAI-compatible servers such as Groq or a self-hosted Whisper): speech is the
 * client's JSON with the upstream's model; a transcription or translation is the client's form
 * again, `model` first and the audio file last (`http/multipart.ts` streams it from Portico's
 * copy, so a retry sends it again). The answer is relayed as sent: audio bytes, a transcript in
 * the format asked for, or an event stream.
 */
import type { AudioUpload, UpstreamAudioResponse } from '../../spec/audio.ts';
import type { CallOptions } from '../../spec/provider.ts';
import { buildMultipartBody } from '../http/multipart.ts';
import { headerValue } from '../http/request.ts';
import type { OpenAIOperation } from './api-config.ts';
import { type CallContext, callRaw, upstreamRequestId } from './call.ts';

const EVENT_STREAM = 'text/event-stream';

export async function speech(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamAudioResponse> {
  // `stream_format: "sse"` answers events; otherwise the audio's bytes.
  const accept = body.stream_format === 'sse' ? EVENT_STREAM : 'application/octet-stream';
  const response = await callRaw(ctx, { method: 'POST', operation: { kind: 'audioSpeech' }, what: 'speech request', json: { ...body, model: ctx.config.upstreamModel }, accept }, options);
  return {
    status: response.status,
    contentType: headerValue(response.headers, 'content-type') ?? 'application/octet-stream',
    body: response.body,
    upstreamRequestId: upstreamRequestId(ctx, response),
  };
}

export function transcriptions(ctx: CallContext, upload: AudioUpload, options?: CallOptions): Promise<UpstreamAudioResponse> {
  return sendForm(ctx, { kind: 'audioTranscriptions' }, 'transcription request', upload, options);
}

export function translations(ctx: CallContext, upload: AudioUpload, options?: CallOptions): Promise<UpstreamAudioResponse> {
  return sendForm(ctx, { kind: 'audioTranslations' }, 'translation request', upload, options);
}

async function sendForm(ctx: CallContext, operation: OpenAIOperation, what: string, upload: AudioUpload, options?: CallOptions): Promise<UpstreamAudioResponse> {
  const streamed = upload.fields.some(([name, value]) => name === 'stream' && value === 'true');
  const { file } = upload;
  const multipart = buildMultipartBody([['model', ctx.config.upstreamModel], ...upload.fields], {
    field: 'file',
    filename: file.filename,
    contentType: file.contentType,
    content: file.open(),
    bytes: file.bytes,
  });
  let response;
  try {
    response = await callRaw(
      ctx,
      {
        method: 'POST',
        operation,
        what,
        body: multipart.body,
        headers: { 'content-type': multipart.contentType, 'content-length': String(multipart.contentLength) },
        accept: streamed ? EVENT_STREAM : 'application/json, text/plain, */*',
      },
      options,
    );
  } finally {
    // The file's read stream is closed whatever happened to the call (a refused connection never reads it).
    if (!multipart.body.destroyed && !multipart.body.readableEnded) multipart.body.destroy();
  }
  return {
    status: response.status,
    contentType: headerValue(response.headers, 'content-type') ?? (streamed ? EVENT_STREAM : 'application/json'),
    body: response.body,
    upstreamRequestId: upstreamRequestId(ctx, response),
  };
}
