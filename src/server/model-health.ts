/**
 * LiteLLM's `GET /health`: one real call to each deployment (or those of one model group), as
 * LiteLLM makes it, to tell an operator which deployments can answer now. A chat deployment gets a
 * two-word chat request, one whose `model_info.mode` says `embedding` an embeddings request,
 * `completion` a legacy completion, `rerank` a rerank of one document, `audio_speech` speech of
 * the check text, `audio_transcription` a transcription of a tenth of a second of silence. Each call goes to the
 * deployment's own client, not through the router: a failing check neither cools the deployment
 * down nor is retried elsewhere, and it is not recorded as spend. The answers are LiteLLM's lists
 * of healthy and unhealthy endpoints, each with the deployment's model and id, an unhealthy one
 * with the error's message (redacted).
 */
import { Readable } from 'node:stream';
import { errorToResponse } from './error-to-response.ts';
import { type AudioFile, type UpstreamAudioResponse, silentWav } from '../spec/audio.ts';
import { configuredModelOf, type Deployment, type ProviderClient } from '../spec/provider.ts';
import type { Redactor } from '../spec/redaction.ts';

/** The longest a check waits for its deployment, whatever the deployment's own timeout. */
const MAX_CHECK_MS = 30_000;

const CHECK_TEXT = 'test from portico';

export interface HealthEndpoint {
  model: string;
  model_name: string;
  model_id: string;
  error?: string;
}

export interface ModelHealth {
  healthy_endpoints: HealthEndpoint[];
  unhealthy_endpoints: HealthEndpoint[];
  healthy_count: number;
  unhealthy_count: number;
}

function checkCall(client: ProviderClient, deployment: Deployment, signal: AbortSignal): Promise<unknown> | undefined {
  const options = { signal };
  switch (deployment.mode) {
    case 'embedding':
      return client.embeddings?.({ model: deployment.modelGroup, input: [CHECK_TEXT] }, options);
    case 'completion':
      return client.completions?.({ model: deployment.modelGroup, prompt: CHECK_TEXT, max_tokens: 1 }, options);
    case 'rerank':
      return client.rerank?.({ model: deployment.modelGroup, query: CHECK_TEXT, documents: [CHECK_TEXT] }, options);
    case 'audio_speech':
      return drained(client.audioSpeech?.({ model: deployment.modelGroup, input: CHECK_TEXT, voice: 'alloy' }, options));
    case 'audio_transcription':
      return drained(client.audioTranscriptions?.({ fields: [], file: CHECK_AUDIO }, options));
    default:
      return client.chatCompletions({ model: deployment.modelGroup, messages: [{ role: 'user', content: CHECK_TEXT }] }, options);
  }
}

/** What a transcription deployment is checked with (LiteLLM sends a recording of its own). */
const SILENT_WAV = silentWav(100);
const CHECK_AUDIO: AudioFile = { filename: 'health-check.wav', contentType: 'audio/wav', bytes: SILENT_WAV.byteLength, open: () => Readable.from([SILENT_WAV]) };

/** Reads an audio answer to its end (a check that passed frees its connection). */
function drained(answer: Promise<UpstreamAudioResponse> | undefined): Promise<void> | undefined {
  return answer?.then(async (response) => {
    for await (const _chunk of response.body);
  });
}

async function checkOne(client: ProviderClient, deployment: Deployment, redact: Redactor): Promise<HealthEndpoint> {
  const endpoint: HealthEndpoint = {
    model: configuredModelOf(deployment),
    model_name: deployment.modelGroup,
    model_id: deployment.id,
  };
  try {
    const call = checkCall(client, deployment, AbortSignal.timeout(Math.min(deployment.timeoutMs, MAX_CHECK_MS)));
    if (call === undefined) return { ...endpoint, error: `The deployment's provider has no ${deployment.mode} API.` };
    await call;
    return endpoint;
  } catch (error) {
    return { ...endpoint, error: errorToResponse(error, { redact }).body.error.message };
  }
}

/** Checks `deployments` at once; answers LiteLLM's shape. */
export async function checkModelHealth(deployments: readonly Deployment[], clientFor: (deployment: Deployment) => ProviderClient, redact: Redactor): Promise<ModelHealth> {
  const results = await Promise.all(deployments.map((deployment) => checkOne(clientFor(deployment), deployment, redact)));
  const healthy = results.filter((result) => result.error === undefined);
  const unhealthy = results.filter((result) => result.error !== undefined);
  return { healthy_endpoints: healthy, unhealthy_endpoints: unhealthy, healthy_count: healthy.length, unhealthy_count: unhealthy.length };
}
