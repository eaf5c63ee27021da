/**
 * OpenAI's audio endpoints as Portico serves them (https://platform.openai.com/docs/api-reference/audio):
 * `POST /v1/audio/speech` (JSON in, audio bytes or an audio event stream out) and
 * `POST /v1/audio/transcriptions` / `POST /v1/audio/translations` (a multipart form with the audio
 * file in, JSON, plain text, subtitles or a transcript event stream out). Their answers are relayed
 * as the upstream sent them: only the usage is read from them, for the spend ledger.
 */
import type { Readable } from 'node:stream';
import type { UpstreamStream } from './provider.ts';

/** The audio routes, paths without `/v1` (served with and without it), rate-limited like the model routes. */
export const AUDIO_SPEECH_PATH = '/audio/speech';
export const AUDIO_TRANSCRIPTIONS_PATH = '/audio/transcriptions';
export const AUDIO_TRANSLATIONS_PATH = '/audio/translations';
export const AUDIO_PATHS: readonly string[] = [AUDIO_SPEECH_PATH, AUDIO_TRANSCRIPTIONS_PATH, AUDIO_TRANSLATIONS_PATH];

/**
 * The largest audio file a transcription or translation takes: OpenAI's 25 MB (its API reference,
 * "File uploads are currently limited to 25 MB"; it answers 413 above 26,214,400 bytes). Azure's
 * Whisper takes the same.
 */
export const MAX_AUDIO_FILE_BYTES = 25 * 1024 * 1024;

/**
 * A transcription or translation request as the provider gets it: the form's text fields in the
 * client's order (`model` left out: the provider writes its own), and the audio file, received
 * whole before the first attempt so that every attempt (a retry, a fallback) can send it again.
 */
export interface AudioUpload {
  readonly fields: ReadonlyArray<readonly [string, string]>;
  readonly file: AudioFile;
}

export interface AudioFile {
  readonly filename: string;
  readonly contentType: string;
  readonly bytes: number;
  /** A fresh stream of the file's bytes, one per attempt. */
  open(): Readable;
}

/**
 * An audio endpoint's answer as the upstream sent it: audio bytes (`audio/mpeg`, ...), a transcript
 * as JSON, text or subtitles, or server-sent events (`text/event-stream`) when the client asked for
 * a stream. Iterating pulls from the upstream, as `UpstreamStream`'s body does.
 */
export interface UpstreamAudioResponse extends UpstreamStream {
  /** The upstream's Content-Type, relayed to the client. */
  readonly contentType: string;
}

/** Whether a Content-Type is server-sent events. */
export function isEventStreamType(contentType: string): boolean {
  return /^\s*text\/event-stream\s*(;|$)/i.test(contentType);
}

/** Whether a Content-Type is JSON. */
export function isJsonType(contentType: string): boolean {
  return /^\s*application\/([\w.+-]*\+)?json\s*(;|$)/i.test(contentType);
}
