/**
 * The mock provider's audio, so that the example config can be tried with the SDK's audio calls
 * and no key: speech is silence (a WAV file, 60 ms per character of input, at most 10 s; raw
 * samples for `response_format: "pcm"`, a WAV file for every other format, since the mock encodes
 * no MP3 or Opus), and a transcript is the deployment's `mock_response`, else a sentence naming
 * the audio's size and length, in the format asked for (JSON with a `duration` usage, text, SRT,
 * VTT, verbose JSON, or `transcript.text.*` events with `stream`).
 */
import { type AudioUpload, SILENT_WAV_BYTES_PER_SECOND, type UpstreamAudioResponse, silentWav } from '../../spec/audio.ts';
import { InvalidRequestError } from '../../spec/errors.ts';
import { encodeSseEvent } from '../http/sse.ts';
import { approximateTokens, mockAnswer, streamPieces } from './mock-answers.ts';

const MS_PER_CHARACTER = 60;
const MAX_SPEECH_MS = 10_000;
const WAV_HEADER_BYTES = 44;

const TRANSCRIPT_FORMATS = new Set(['json', 'text', 'srt', 'vtt', 'verbose_json']);

function once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  return (async function* () {
    yield bytes;
  })();
}

export function mockSpeech(body: Record<string, unknown>): UpstreamAudioResponse {
  if (typeof body.input !== 'string' || body.input === '') throw new InvalidRequestError("Missing required parameter: 'input'.", { param: 'input', code: 'missing_required_parameter' });
  const wav = silentWav(Math.min(MAX_SPEECH_MS, body.input.length * MS_PER_CHARACTER));
  if (body.response_format === 'pcm') return { status: 200, contentType: 'audio/pcm', body: once(wav.subarray(WAV_HEADER_BYTES)) };
  return { status: 200, contentType: 'audio/wav', body: once(wav) };
}

/** Seconds of audio: a WAV file's by its header, else at 128 kbit/s (an MP3's usual rate). */
function durationOf(upload: AudioUpload, head: Buffer): number {
  if (head.length >= WAV_HEADER_BYTES && head.toString('ascii', 0, 4) === 'RIFF' && head.toString('ascii', 8, 12) === 'WAVE') {
    const byteRate = head.readUInt32LE(28);
    if (byteRate > 0) return Math.max(0, upload.file.bytes - WAV_HEADER_BYTES) / byteRate;
  }
  return upload.file.bytes / 16_000;
}

async function headOf(upload: AudioUpload): Promise<Buffer> {
  const stream = upload.file.open();
  try {
    for await (const chunk of stream) return Buffer.from(chunk as Uint8Array).subarray(0, WAV_HEADER_BYTES);
    return Buffer.alloc(0);
  } finally {
    stream.destroy();
  }
}

function field(upload: AudioUpload, name: string): string | undefined {
  return upload.fields.findLast(([key]) => key === name)?.[1];
}

function timestamp(seconds: number, separator: ',' | '.'): string {
  const ms = Math.round(seconds * 1000);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

export async function mockTranscription(upload: AudioUpload, mockResponse: unknown, task: 'transcribe' | 'translate'): Promise<UpstreamAudioResponse> {
  const format = field(upload, 'response_format') ?? 'json';
  if (!TRANSCRIPT_FORMATS.has(format)) {
    throw new InvalidRequestError(`Invalid value: '${format.slice(0, 40)}'. Supported values are: 'json', 'text', 'srt', 'verbose_json', and 'vtt'.`, { param: 'response_format', code: 'invalid_value' });
  }
  const seconds = durationOf(upload, await headOf(upload));
  const described = `A mock ${task === 'transcribe' ? 'transcript' : 'translation'} of ${upload.file.bytes} bytes (${seconds.toFixed(1)} s) of audio.`;
  const text = mockResponse === undefined ? described : mockAnswer(mockResponse, described);
  const usage = { type: 'duration', seconds: Math.max(1, Math.ceil(seconds)) };
  if (field(upload, 'stream') === 'true' && task === 'transcribe') {
    async function* events(): AsyncGenerator<Uint8Array> {
      for (const delta of streamPieces(text)) yield encodeSseEvent({ type: 'transcript.text.delta', delta });
      yield encodeSseEvent({ type: 'transcript.text.done', text, usage: { type: 'tokens', input_tokens: Math.ceil(seconds * 10), output_tokens: approximateTokens(text), total_tokens: Math.ceil(seconds * 10) + approximateTokens(text) } });
    }
    return { status: 200, contentType: 'text/event-stream', body: events() };
  }
  const json = (value: unknown): UpstreamAudioResponse => ({ status: 200, contentType: 'application/json', body: once(Buffer.from(JSON.stringify(value))) });
  const plain = (value: string): UpstreamAudioResponse => ({ status: 200, contentType: 'text/plain; charset=utf-8', body: once(Buffer.from(value)) });
  switch (format) {
    case 'text':
      return plain(`${text}\n`);
    case 'srt':
      return plain(`1\n${timestamp(0, ',')} --> ${timestamp(seconds, ',')}\n${text}\n\n`);
    case 'vtt':
      return plain(`WEBVTT\n\n${timestamp(0, '.')} --> ${timestamp(seconds, '.')}\n${text}\n\n`);
    case 'verbose_json':
      return json({
        task,
        language: task === 'translate' ? 'english' : (field(upload, 'language') ?? 'english'),
        duration: seconds,
        text,
        segments: [{ id: 0, seek: 0, start: 0, end: seconds, text, tokens: [], temperature: 0, avg_logprob: 0, compression_ratio: 1, no_speech_prob: 0 }],
        ...(task === 'transcribe' && { usage }),
      });
    default:
      return json(task === 'transcribe' ? { text, usage } : { text });
  }
}
