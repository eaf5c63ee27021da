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

/** The WAV files `silentWav` writes: 16 kHz, 16-bit mono PCM. */
export const SILENT_WAV_BYTES_PER_SECOND = 32_000;

/**
 * `ms` of silence as a WAV file (RIFF header, then 16 kHz 16-bit mono PCM samples): what `/health`
 * transcribes, and what the mock provider speaks.
 */
export function silentWav(ms: number): Buffer {
  const data = Math.round((ms / 1000) * 16_000) * 2;
  const wav = Buffer.alloc(44 + data);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + data, 4);
  wav.write('WAVEfmt ', 8, 'ascii');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(16_000, 24);
  wav.writeUInt32LE(SILENT_WAV_BYTES_PER_SECOND, 28);
  wav.writeUInt16LE(2, 32); // bytes per frame
  wav.writeUInt16LE(16, 34); // bits per sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(data, 40);
  return wav;
}
