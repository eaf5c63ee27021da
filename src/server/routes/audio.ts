/**
 * OpenAI's audio routes (`spec/audio.ts`), with and without `/v1`: `POST /v1/audio/speech` (JSON),
 * `POST /v1/audio/transcriptions` and `POST /v1/audio/translations` (a form with the audio file).
 * Like the other model routes: the key must be allowed the model group, its budgets and limits
 * apply (`rate-limit-hook.ts`), the router picks, retries and falls back, and the request gets a
 * spend row. The answer is relayed as the upstream sent it (audio bytes, a transcript in the
 * format asked for, or an event stream); a provider without the endpoint answers 400.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { redactorFor } from '../../config/secret-redactor.ts';
import { AUDIO_SPEECH_PATH, AUDIO_TRANSCRIPTIONS_PATH, AUDIO_TRANSLATIONS_PATH, type AudioUpload, type UpstreamAudioResponse, isEventStreamType, isJsonType } from '../../spec/audio.ts';
import { unsupportedEndpoint } from '../../spec/endpoints.ts';
import { GatewayError } from '../../spec/errors.ts';
import { upstreamBodyOf } from '../../spec/gateway-request-fields.ts';
import { admitEndUser } from '../end-user-limits.ts';
import type { CallOptions, ProviderClient } from '../../spec/provider.ts';
import { requestControlsOf } from '../../spec/request-controls.ts';
import { type AudioUsage, audioUsageOf } from '../../spend/audio-usage.ts';
import { readStreamEvents } from '../../spec/stream-event-tap.ts';
import { receiveAudioForm, type ReceivedAudioForm } from '../audio-upload.ts';
import { assertModelUsable } from '../model-access.ts';
import { parseInput } from '../parse-input.ts';
import { principalOf } from '../request-context.ts';
import type { AppServices, RouteModule } from '../services.ts';
import { leaveMultipartUnread } from '../multipart-bodies.ts';
import { relayServerSentEvents } from '../sse-relay.ts';
import { routingOfControls, sendToModelGroup } from '../upstream-call.ts';
import { withAndWithoutV1 } from './paths.ts';

/** OpenAI's `CreateSpeechRequest`: Portico reads `model` and `input`; the rest goes upstream as sent. */
const speechBody = z.looseObject({ model: z.string().min(1), input: z.string() });

/** JSON transcripts are read whole to find their usage: at most this much (a long verbose transcript is a few MB). */
const MAX_TRANSCRIPT_BYTES = 32 * 1024 * 1024;

type AudioCall<I> = (client: ProviderClient, input: I, options: CallOptions) => Promise<UpstreamAudioResponse> | undefined;

export const audioRoutes: RouteModule = {
  name: 'audio',
  register(app, services) {
    leaveMultipartUnread(app);
    registerSpeech(app, services);
    registerForm(app, services, AUDIO_TRANSCRIPTIONS_PATH, (client, upload, options) => client.audioTranscriptions?.(upload, options));
    registerForm(app, services, AUDIO_TRANSLATIONS_PATH, (client, upload, options) => client.audioTranslations?.(upload, options));
  },
};

function registerSpeech(app: FastifyInstance, services: AppServices): void {
  const bodies = new WeakMap<FastifyRequest, z.output<typeof speechBody>>();
  for (const url of withAndWithoutV1(AUDIO_SPEECH_PATH)) {
    app.post(
      url,
      {
        config: { modelEndpoint: AUDIO_SPEECH_PATH },
        preValidation: async (request) => {
          const body = parseInput(speechBody, request.body);
          assertModelUsable(services.router, principalOf(request), body.model);
          request.portico.modelGroup = body.model;
          bodies.set(request, body);
        },
      },
      async (request, reply) => {
        const body = bodies.get(request)!;
        const received = request.body as Record<string, unknown>;
        const upstreamBody = upstreamBodyOf(AUDIO_SPEECH_PATH, received);
        const call: AudioCall<Record<string, unknown>> = (client, input, options) => client.audioSpeech?.(input, options);
        const answer = await send(services, request, reply, body.model, received, (client, options) => call(client, upstreamBody, options) ?? unsupportedEndpoint(client, `/v1${AUDIO_SPEECH_PATH}`));
        // tts-1 is priced by the characters of its text; gpt-4o-mini-tts's events report tokens.
        return relay(services, request, reply, AUDIO_SPEECH_PATH, answer, { characters: body.input.length });
      },
    );
  }
}

function registerForm(app: FastifyInstance, services: AppServices, path: string, call: AudioCall<AudioUpload>): void {
  const forms = new WeakMap<FastifyRequest, ReceivedAudioForm>();
  for (const url of withAndWithoutV1(path)) {
    app.post(
      url,
      {
        config: { modelEndpoint: path },
        // The form is read before the key's limits and budgets (preHandler hooks), which need its
        // `model`; its temporary file is removed when the response closes, however it ends.
        preValidation: async (request, reply) => {
          const form = await receiveAudioForm(request.raw, (dispose) => {
            if (reply.raw.closed) void dispose();
            else reply.raw.once('close', () => void dispose());
          });
          request.body = { ...form.fields };
          assertModelUsable(services.router, principalOf(request), form.model);
          request.portico.modelGroup = form.model;
          forms.set(request, form);
        },
      },
      async (request, reply) => {
        const form = forms.get(request)!;
        const answer = await send(services, request, reply, form.model, form.fields, (client, options) => call(client, form.upload, options) ?? unsupportedEndpoint(client, `/v1${path}`));
        return relay(services, request, reply, path, answer, { measureSeconds: form.seconds });
      },
    );
  }
}

async function send(
  services: AppServices,
  request: FastifyRequest,
  reply: FastifyReply,
  model: string,
  received: Record<string, unknown>,
  call: (client: ProviderClient, options: CallOptions) => Promise<UpstreamAudioResponse>,
): Promise<UpstreamAudioResponse> {
  const waitForLedger = services.spend?.whenRoom();
  if (waitForLedger !== undefined) await waitForLedger;
  const endUserCheck = admitEndUser(request, received, services.config.userHeaderName, services.endUserLimits);
  if (endUserCheck !== undefined) await endUserCheck;
  // LiteLLM's request headers (`x-litellm-num-retries`, `x-litellm-timeout`); a form's fields are text, read as OpenAI's.
  const controls = requestControlsOf(request.headers['content-type']?.startsWith('multipart/') === true ? {} : received, request.headers);
  try {
    return await sendToModelGroup(services.router, request, reply, model, call, routingOfControls(controls));
  } catch (error) {
    services.spend?.recordFailure(request, request.routeOptions.config.modelEndpoint ?? '');
    throw error;
  }
}

/** What a request's spend is priced by beyond its answer's usage. */
interface AudioPricing {
  /** Speech: the characters of its text. */
  readonly characters?: number;
  /** A transcription or translation: the audio's seconds, read from its file when the answer does not say. */
  readonly measureSeconds?: () => Promise<number | undefined>;
}

/**
 * Relays the answer and records its spend once it has been sent: a JSON transcript is read whole
 * (its `usage`), an event stream's usage is read from its events as they pass, audio bytes are
 * priced by the request (the characters spoken); a transcript that reports neither tokens nor
 * seconds (text, subtitles, a translation) by the seconds of its audio file.
 */
async function relay(services: AppServices, request: FastifyRequest, reply: FastifyReply, path: string, answer: UpstreamAudioResponse, pricing: AudioPricing): Promise<FastifyReply> {
  const ledger = services.spend;
  /** The request's row, with what the answer said it used (a relay cut short is a failure). */
  const record = (usage: AudioUsage, completed: boolean): void => {
    if (ledger === undefined) return;
    const row = pricing.characters === undefined ? usage : { ...usage, characters: pricing.characters };
    const measure = pricing.measureSeconds;
    if (usage.tokens !== undefined || usage.seconds !== undefined || measure === undefined || !completed) {
      ledger.recordAudio(request, path, row, completed);
      return;
    }
    void measure().then((seconds) => ledger.recordAudio(request, path, seconds === undefined ? row : { ...row, seconds }, completed));
  };
  if (isEventStreamType(answer.contentType)) {
    let usage: AudioUsage = {};
    readStreamEvents(answer, {
      event: (_data, json) => {
        const found = audioUsageOf(json());
        if (found.tokens !== undefined || found.seconds !== undefined) usage = found;
      },
      end: (completed) => record(usage, completed),
    });
    await relayServerSentEvents(request, reply, answer, { logger: services.logger, redact: redactorFor(services.config) });
    return reply;
  }
  if (isJsonType(answer.contentType)) {
    const text = await readWhole(answer.body);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    record(audioUsageOf(parsed), true);
    return reply.code(answer.status).type(answer.contentType).send(text);
  }
  // Audio bytes, or a transcript as text or subtitles: streamed through, the row written when the last byte went out.
  const body = answer.body;
  async function* relayed(): AsyncGenerator<Uint8Array> {
    let completed = false;
    try {
      for await (const chunk of body) yield chunk;
      completed = true;
    } finally {
      record({}, completed);
    }
  }
  return reply.code(answer.status).type(answer.contentType).send(Readable.from(relayed(), { objectMode: false }));
}

async function readWhole(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.byteLength;
    if (bytes > MAX_TRANSCRIPT_BYTES) throw new GatewayError(502, `The upstream's transcript is larger than ${MAX_TRANSCRIPT_BYTES} bytes.`, { type: 'server_error', code: 'bad_upstream_response' });
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks).toString('utf8');
}
