/**
 * OpenAI's audio endpoints as the simulator answers them: `POST /v1/audio/speech`,
 * `/v1/audio/transcriptions` and `/v1/audio/translations`. Shapes from OpenAI's OpenAPI description
 * (`CreateSpeechRequest`, `SpeechAudioDeltaEvent` / `SpeechAudioDoneEvent`,
 * `CreateTranscriptionRequest`, `CreateTranscriptionResponseJson` / `VerboseJson`,
 * `TranscriptTextDeltaEvent` / `TranscriptTextDoneEvent`, `TranscriptTextUsageTokens` /
 * `TranscriptTextUsageDuration`, `CreateTranslationRequest` / `ResponseJson` / `VerboseJson` in
 * https://github.com/openai/openai-openapi; API reference at
 * https://platform.openai.com/docs/api-reference/audio). Error wordings are the real API's where
 * they are on record (invalid file format, 413 content size, verbose_json on gpt-4o models).
 *
 * The fake audio model, a contract the gateway's tests rely on:
 * - "Audio" is text: speech of input X in format F is the UTF-8 bytes of `FAKEAUDIO/F:X`
 *   (F = `response_format`, default mp3), served with F's content type.
 * - Transcribing (or translating) bytes that start with `FAKEAUDIO/<fmt>:` gives the rest as the
 *   transcript; any other bytes give `(audio of N bytes)`. A transcript (or speech input) of
 *   `FAIL` / `FAIL:<status>` fails the request as the fake chat model does.
 * - Duration = max(1, words of the transcript) * 0.5 s; audio tokens = ceil(duration * 10).
 * - Whisper models (name contains `whisper`) bill by duration, the others (gpt-4o-transcribe...)
 *   by tokens; only whisper takes srt / vtt / verbose_json, and ignores `stream` (as the spec says).
 */
import { sseFrame } from '../common/simulator-server.ts';
import type { SimReply, SimRequest } from '../common/simulator-server.ts';
import { parseMultipart } from '../common/multipart.ts';
import type { MultipartForm } from '../common/multipart.ts';
import { countTokens, requestedFailureStatus, streamPieces } from '../common/fake-model.ts';
import { defaultOpenAIFailureBody, openaiErrorBody } from './errors.ts';
import type { OpenAIErrorFields } from './errors.ts';
import type { InferenceContext } from './chat.ts';
import { jsonBody } from './inference-replies.ts';

type Json = Record<string, unknown>;

/** What the fake TTS writes before the input text. */
export const FAKE_AUDIO_PREFIX = 'FAKEAUDIO/';

export const SPEECH_CONTENT_TYPES: Readonly<Record<string, string>> = {
  mp3: 'audio/mpeg',
  opus: 'audio/ogg',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};
const SPEECH_FORMATS = Object.keys(SPEECH_CONTENT_TYPES);
const MAX_SPEECH_INPUT = 4096;

/** The audio upload limit (26214400 bytes), enforced on the request body as the real API does. */
export const MAX_AUDIO_UPLOAD_BYTES = 25 * 1024 * 1024;
const AUDIO_EXTENSIONS = ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm'];
const TRANSCRIPTION_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt', 'diarized_json'];
const TRANSLATION_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'];
const WHISPER_FORMATS = ['json', 'text', 'srt', 'verbose_json', 'vtt'];
const TOKEN_MODEL_FORMATS = ['json', 'text'];

const error = (status: number, fields: OpenAIErrorFields): SimReply => ({ status, json: openaiErrorBody(status, fields) });
const missing = (param: string): SimReply => error(400, { message: `Missing required parameter: '${param}'.`, param, code: 'missing_required_parameter' });

/** OpenAI's wording for a value outside an enum: `Supported values are: 'a', 'b', and 'c'.` */
function invalidValue(value: unknown, supported: readonly string[], param: string): SimReply {
  const quoted = supported.map((v) => `'${v}'`);
  const list = `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)}`;
  return error(400, { message: `Invalid value: '${String(value)}'. Supported values are: ${list}.`, param, code: 'invalid_value' });
}

function isReply(v: Json | SimReply): v is SimReply {
  return typeof (v as SimReply).status === 'number' && ('json' in v || 'raw' in v || 'sse' in v);
}

function failure(text: string): SimReply | null {
  const status = requestedFailureStatus(text);
  return status === null ? null : { status, json: defaultOpenAIFailureBody(status) };
}

function modelRefusal(model: string, ctx: InferenceContext): SimReply | null {
  const refused = ctx.modelError(model);
  return refused ? { status: refused.status, json: refused.body } : null;
}

const isWhisper = (model: string) => /whisper/i.test(model);
const words = (text: string) => text.split(/\s+/).filter(Boolean);

/** Seconds of fake audio for a text: half a second a word, at least one word. */
export function fakeAudioSeconds(text: string): number {
  return Math.max(1, words(text).length) * 0.5;
}

/** Audio tokens of a stretch of fake audio: ten a second. */
export function fakeAudioTokens(seconds: number): number {
  return Math.ceil(seconds * 10);
}

/** The bytes the fake TTS produces for `input` in `format`. */
export function fakeSpeechBytes(input: string, format = 'mp3'): Buffer {
  return Buffer.from(`${FAKE_AUDIO_PREFIX}${format}:${input}`, 'utf8');
}

/** What the fake recogniser hears in `audio`. */
export function fakeTranscript(audio: Buffer): string {
  const m = /^FAKEAUDIO\/[A-Za-z0-9]+:/.exec(audio.subarray(0, 40).toString('latin1'));
  return m ? audio.subarray(m[0].length).toString('utf8') : `(audio of ${audio.length} bytes)`;
}

// ---------------------------------------------------------------------------------------------
// POST /audio/speech

/** Body overrides let Azure put the deployment name in `model`. */
export function speechReply(req: SimRequest, ctx: InferenceContext, override: Json = {}): SimReply {
  const parsed = jsonBody(req);
  if (isReply(parsed)) return parsed;
  const body = { ...parsed, ...override };
  const { model, input, voice } = body;
  if (typeof model !== 'string' || model === '') return missing('model');
  if (typeof input !== 'string' || input === '') return missing('input');
  if (voice === undefined || voice === null || voice === '') return missing('voice');
  if (typeof voice !== 'string' && typeof (voice as Json).id !== 'string') {
    return error(400, { message: "Invalid type for 'voice': expected a string or an object with an 'id', but got another value instead.", param: 'voice', code: 'invalid_type' });
  }
  if (input.length > MAX_SPEECH_INPUT) {
    return error(400, {
      message: `Invalid 'input': string too long. Expected a string with maximum length ${MAX_SPEECH_INPUT}, but got a string with length ${input.length} instead.`,
      param: 'input',
      code: 'string_above_max_length',
    });
  }
  const format = body.response_format ?? 'mp3';
  if (typeof format !== 'string' || !SPEECH_FORMATS.includes(format)) return invalidValue(format, SPEECH_FORMATS, 'response_format');
  if (body.speed !== undefined && body.speed !== null) {
    const speed = body.speed;
    if (typeof speed !== 'number') return error(400, { message: `Invalid type for 'speed': expected a decimal, but got a ${typeof speed} instead.`, param: 'speed', code: 'invalid_type' });
    if (speed > 4) return error(400, { message: `Invalid 'speed': decimal above maximum value. Expected a value <= 4, but got ${speed} instead.`, param: 'speed', code: 'decimal_above_max_value' });
    if (speed < 0.25) return error(400, { message: `Invalid 'speed': decimal below minimum value. Expected a value >= 0.25, but got ${speed} instead.`, param: 'speed', code: 'decimal_below_min_value' });
  }
  const streamFormat = body.stream_format ?? 'audio';
  if (streamFormat !== 'audio' && streamFormat !== 'sse') return invalidValue(streamFormat, ['sse', 'audio'], 'stream_format');
  // CreateSpeechRequest.stream_format: "`sse` is not supported for `tts-1` or `tts-1-hd`".
  if (streamFormat === 'sse' && model.startsWith('tts-1')) {
    return error(400, { message: `Unsupported value: 'stream_format' does not support 'sse' with this model. Supported values are: 'audio'.`, param: 'stream_format', code: 'unsupported_value' });
  }
  const refused = modelRefusal(model, ctx) ?? failure(input);
  if (refused) return refused;

  const audio = fakeSpeechBytes(input, format);
  if (streamFormat === 'audio') return { status: 200, raw: audio, headers: { 'content-type': SPEECH_CONTENT_TYPES[format] } };
  // SSE: `speech.audio.delta` events carrying base64 pieces, then `speech.audio.done` with the
  // usage; like the transcription stream, no `data: [DONE]` closes it.
  const inputTokens = countTokens(input) + (typeof body.instructions === 'string' ? countTokens(body.instructions) : 0);
  const outputTokens = fakeAudioTokens(fakeAudioSeconds(input));
  const size = Math.ceil(audio.length / 3);
  const frames: string[] = [];
  for (let at = 0; at < audio.length; at += size) {
    frames.push(sseFrame(JSON.stringify({ type: 'speech.audio.delta', audio: audio.subarray(at, at + size).toString('base64') })));
  }
  frames.push(sseFrame(JSON.stringify({ type: 'speech.audio.done', usage: { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens } })));
  return { status: 200, sse: frames };
}

// ---------------------------------------------------------------------------------------------
// POST /audio/transcriptions and /audio/translations

interface AudioForm {
  form: MultipartForm;
  model: string;
  file: Buffer;
  responseFormat: string;
}

/** The checks both multipart endpoints share, in the order the API applies them. */
function readAudioForm(req: SimRequest, ctx: InferenceContext, override: Json, formats: readonly string[]): AudioForm | SimReply {
  if (req.bodyTooLarge || req.bodyBytes > MAX_AUDIO_UPLOAD_BYTES) {
    // The real answer (typed `server_error`, param and code null), e.g. in
    // https://github.com/chidiwilliams/buzz/issues/381 and StanGirard/speechdigest#1.
    return error(413, { message: `Maximum content size limit (${MAX_AUDIO_UPLOAD_BYTES}) exceeded (${req.bodyBytes} bytes read)`, type: 'server_error' });
  }
  const contentType = String(req.headers['content-type'] ?? '');
  const form = parseMultipart(req.body, contentType);
  if (!form) return error(400, { message: `Invalid Content-Type header (${contentType || 'none'}), expected multipart/form-data.` });
  const file = form.files.find((f) => f.field === 'file');
  if (!file) return missing('file');
  const model = typeof override.model === 'string' ? override.model : form.fields.model;
  if (model === undefined || model === '') return missing('model');
  const refused = modelRefusal(model, ctx);
  if (refused) return refused;
  const extension = /\.([^./\\]+)$/.exec(file.filename)?.[1]?.toLowerCase();
  if (!extension || !AUDIO_EXTENSIONS.includes(extension)) {
    return error(400, { message: `Invalid file format. Supported formats: [${AUDIO_EXTENSIONS.map((e) => `'${e}'`).join(', ')}]` });
  }
  const responseFormat = form.fields.response_format ?? 'json';
  if (!formats.includes(responseFormat)) return invalidValue(responseFormat, formats, 'response_format');
  return { form, model, file: file.data, responseFormat };
}

function isAudioForm(v: AudioForm | SimReply): v is AudioForm {
  return 'form' in v;
}

/** Every value of a repeated multipart field (`timestamp_granularities[]`), which `parseMultipart` keeps once. */
function repeatedField(req: SimRequest, name: string): string[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(String(req.headers['content-type'] ?? ''));
  const boundary = m?.[1] ?? m?.[2]?.trim();
  if (!boundary) return [];
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const wanted = new RegExp(`name="${name.replace(/[[\]]/g, '\\$&')}"`, 'i');
  const values: string[] = [];
  let at = req.body.indexOf(delimiter.subarray(2));
  while (at >= 0) {
    const headerEnd = req.body.indexOf('\r\n\r\n', at);
    if (headerEnd < 0) break;
    const next = req.body.indexOf(delimiter, headerEnd + 4);
    if (next < 0) break;
    const headers = req.body.subarray(at, headerEnd).toString('utf8');
    if (wanted.test(headers) && !/filename=/i.test(headers)) values.push(req.body.subarray(headerEnd + 4, next).toString('utf8'));
    at = next + 2;
  }
  return values;
}

/** `TranscriptionSegment`: one segment covering the whole fake audio. */
function segment(text: string, duration: number, temperature: number): Json {
  return {
    id: 0,
    seek: 0,
    start: 0,
    end: duration,
    text,
    tokens: Array.from({ length: countTokens(text) }, (_, i) => 50364 + i),
    temperature,
    avg_logprob: -0.25,
    compression_ratio: 1,
    no_speech_prob: 0.01,
  };
}

function subtitleTime(seconds: number, separator: ',' | '.'): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

/** `text`, `srt` and `vtt` answers: plain text, one cue for the whole audio. */
function textReply(format: string, text: string, duration: number): SimReply {
  const plain = (body: string): SimReply => ({ status: 200, raw: body, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  if (format === 'srt') return plain(`1\n${subtitleTime(0, ',')} --> ${subtitleTime(duration, ',')}\n${text}\n\n`);
  if (format === 'vtt') return plain(`WEBVTT\n\n${subtitleTime(0, '.')} --> ${subtitleTime(duration, '.')}\n${text}\n\n`);
  return plain(`${text}\n`);
}

/** Body overrides let Azure put the deployment name in `model`. */
export function transcriptionsReply(req: SimRequest, ctx: InferenceContext, override: Json = {}): SimReply {
  const read = readAudioForm(req, ctx, override, TRANSCRIPTION_FORMATS);
  if (!isAudioForm(read)) return read;
  const { form, model, file, responseFormat } = read;
  const whisper = isWhisper(model);
  if (!(whisper ? WHISPER_FORMATS : TOKEN_MODEL_FORMATS).includes(responseFormat)) {
    // The real wording: "response_format 'verbose_json' is not compatible with model
    // 'gpt-4o-transcribe'. Use 'json' or 'text' instead." (openai/openai-dotnet#401).
    const instead = whisper ? "Use 'json', 'text', 'srt', 'verbose_json' or 'vtt' instead." : "Use 'json' or 'text' instead.";
    return error(400, { message: `response_format '${responseFormat}' is not compatible with model '${model}'. ${instead}`, param: 'response_format', code: 'unsupported_value' });
  }
  const text = fakeTranscript(file);
  const failed = failure(text);
  if (failed) return failed;
  const duration = fakeAudioSeconds(text);
  const prompt = form.fields.prompt ?? '';
  const audioTokens = fakeAudioTokens(duration);
  const textTokens = countTokens(prompt);
  const outputTokens = countTokens(text);
  const usage = whisper
    ? { type: 'duration', seconds: Math.ceil(duration) }
    : { type: 'tokens', input_tokens: textTokens + audioTokens, input_token_details: { text_tokens: textTokens, audio_tokens: audioTokens }, output_tokens: outputTokens, total_tokens: textTokens + audioTokens + outputTokens };

  // `stream` "is not supported for the `whisper-1` model and will be ignored" (CreateTranscriptionRequest).
  if (form.fields.stream === 'true' && !whisper) {
    const frames = streamPieces(text).map((delta) => sseFrame(JSON.stringify({ type: 'transcript.text.delta', delta })));
    frames.push(sseFrame(JSON.stringify({ type: 'transcript.text.done', text, usage })));
    return { status: 200, sse: frames };
  }
  if (responseFormat === 'json') return { status: 200, json: { text, usage } };
  if (responseFormat !== 'verbose_json') return textReply(responseFormat, text, duration);
  // Granularities as in the spec's examples: `segment` (the default) gives `segments`, `word` gives `words`.
  const granularities = repeatedField(req, 'timestamp_granularities[]');
  const wantsSegments = granularities.length === 0 || granularities.includes('segment');
  return {
    status: 200,
    json: {
      task: 'transcribe',
      language: form.fields.language || 'english',
      duration,
      text,
      ...(granularities.includes('word') && { words: words(text).map((word, i) => ({ word, start: i * 0.5, end: (i + 1) * 0.5 })) }),
      ...(wantsSegments && { segments: [segment(text, duration, Number(form.fields.temperature) || 0)] }),
      usage,
    },
  };
}

/** Body overrides let Azure put the deployment name in `model`. */
export function translationsReply(req: SimRequest, ctx: InferenceContext, override: Json = {}): SimReply {
  const read = readAudioForm(req, ctx, override, TRANSLATION_FORMATS);
  if (!isAudioForm(read)) return read;
  const { form, model, file, responseFormat } = read;
  // CreateTranslationRequest.model: "Only `whisper-1` ... is currently available."
  if (!isWhisper(model)) {
    return error(400, { message: `Unsupported value: 'model' does not support '${model}' for translations. Supported values are: 'whisper-1'.`, param: 'model', code: 'unsupported_value' });
  }
  // The fake translator hears English already: the translation is the transcript.
  const text = fakeTranscript(file);
  const failed = failure(text);
  if (failed) return failed;
  const duration = fakeAudioSeconds(text);
  if (responseFormat === 'json') return { status: 200, json: { text } };
  if (responseFormat !== 'verbose_json') return textReply(responseFormat, text, duration);
  return {
    status: 200,
    json: { task: 'translate', language: 'english', duration, text, segments: [segment(text, duration, Number(form.fields.temperature) || 0)] },
  };
}
