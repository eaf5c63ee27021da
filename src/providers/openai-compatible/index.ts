/**
 * OpenAI-compatible services and servers (Groq, OpenRouter, Mistral, ..., vLLM, Ollama, any
 * `/v1/chat/completions` server): one provider per row of `presets.ts`, each the OpenAI client
 * with that row's base URL and key, plus Cohere's rerank at `/rerank` for self-hosted servers.
 * Services with OpenAI's Batch API (Groq; Together and Mistral through their `apiConfig`) run
 * batches natively through the OpenAI file executor; the others through Portico's batch engine
 * (`batch_mode: emulate`).
 */
import type { Deployment, Provider, ProviderClient } from '../../spec/provider.ts';
import { callJson, callStream, type CallContext } from '../openai/call.ts';
import { createOpenAIShapedClient } from '../openai/client.ts';
import { rerank } from '../openai/inference.ts';
import { type OpenAISettings, openAIApiConfig, openAISettingsSchema } from '../openai/openai-config.ts';
import { chatCompletionOf, chatStreamOf, completionRequestOf } from './legacy-completions.ts';
import { OPENAI_COMPATIBLE_PRESETS, type OpenAICompatiblePreset, type RerankWire } from './presets.ts';
import { billedSearchesOf } from '../../spec/rerank.ts';
import { randomUUID } from 'node:crypto';
import { rewriteChatBody, rewritesChat } from './chat-body-rewrites.ts';

/**
 * The deployment's `api_base`, else the preset's. LiteLLM's `ollama/` talks to Ollama's native
 * API at the server root (`api_base: http://localhost:11434`); Portico uses Ollama's
 * OpenAI-compatible API under `/v1`, so a root base gains `/v1`.
 */
function apiBaseFor(deployment: Deployment, preset: OpenAICompatiblePreset): string | undefined {
  const base = deployment.apiBase ?? preset.apiBase;
  if (base === undefined) return undefined;
  const trimmed = base.replace(/\/+$/, '');
  if (preset.appendV1 && !trimmed.endsWith('/v1')) return `${trimmed}/v1`;
  return trimmed;
}

/** Chat on `/completions`: the OpenAI client's other operations, with chat translated. */
function legacyCompletionsClient(client: ProviderClient, ctx: CallContext): ProviderClient {
  return Object.freeze({
    ...client,
    async chatCompletions(body, options) {
      const json: Record<string, unknown> = { ...completionRequestOf(body), model: ctx.config.upstreamModel };
      delete json.stream;
      const answer = await callJson(ctx, { method: 'POST', operation: { kind: 'completions' }, what: 'completion request', json }, options);
      return { status: answer.status, body: chatCompletionOf(answer.body), ...(answer.upstreamRequestId !== undefined && { upstreamRequestId: answer.upstreamRequestId }) };
    },
    async chatCompletionsStream(body, options) {
      const json = { ...completionRequestOf(body), model: ctx.config.upstreamModel, stream: true };
      const answer = await callStream(ctx, { method: 'POST', operation: { kind: 'completions' }, what: 'completion stream', json }, options);
      return { ...answer, body: chatStreamOf(answer.body) };
    },
  } satisfies ProviderClient);
}

/** Chat requests as the service takes them (`chat-body-rewrites.ts`); batch lines the engine runs go through here too. */
function withChatRewrites(client: ProviderClient, preset: OpenAICompatiblePreset): ProviderClient {
  return Object.freeze({
    ...client,
    chatCompletions: (body, options) => client.chatCompletions(rewriteChatBody(body, preset), options),
    chatCompletionsStream: (body, options) => client.chatCompletionsStream(rewriteChatBody(body, preset), options),
  } satisfies ProviderClient);
}

/**
 * Embeddings as the service takes and answers them (`presets.ts`: `embeddingParamNames`,
 * `embeddingsAnswer`); the client as it is for a service that needs neither.
 */
function withEmbeddingsWire(client: ProviderClient, preset: OpenAICompatiblePreset): ProviderClient {
  const embeddings = client.embeddings;
  const names = preset.embeddingParamNames ?? {};
  const answerOf = preset.embeddingsAnswer;
  if (embeddings === undefined || (preset.embeddingParamNames === undefined && answerOf === undefined)) return client;
  const renamed = (body: Record<string, unknown>): Record<string, unknown> => {
    if (!Object.keys(names).some((name) => Object.hasOwn(body, name))) return body;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body)) out[names[key] ?? key] = value;
    return out;
  };
  return Object.freeze({
    ...client,
    embeddings: async (body, options) => {
      const answer = await embeddings(renamed(body), options);
      if (answerOf === undefined) return answer;
      const { rawBody: _bytes, ...rest } = answer;
      return { ...rest, body: answerOf(answer.body) };
    },
  } satisfies ProviderClient);
}

/**
 * The client plus rerank at `{api_base}/rerank`: LiteLLM's rerank as it is (`presets.ts`,
 * `rerank: true`), or in the service's own words (`rerank: RerankWire`).
 */
function withRerank(client: ProviderClient, ctx: CallContext, wire: true | RerankWire): ProviderClient {
  if (wire === true) return Object.freeze({ ...client, rerank: (body, options) => rerank(ctx, body, options) } satisfies ProviderClient);
  return Object.freeze({
    ...client,
    async rerank(body, options) {
      const answer = await callJson(ctx, { method: 'POST', operation: { kind: 'rerank' }, what: 'rerank request', json: wire.request(body, ctx.config.upstreamModel) }, options);
      const translated = wire.answer(answer.body, answer.upstreamRequestId ?? `rerank-${randomUUID()}`);
      const { rawBody: _bytes, ...rest } = answer;
      return { ...rest, body: translated, billedQueries: billedSearchesOf(translated) };
    },
  } satisfies ProviderClient);
}

export function openaiCompatibleProvider(name: string, preset: OpenAICompatiblePreset): Provider<OpenAISettings> {
  const native = preset.batches === 'native';
  return Object.freeze({
    names: Object.freeze([name]),
    defaultBatchMode: preset.batches,
    environmentDefaults: () => ({ apiKey: preset.apiKeyVariables, apiBase: preset.apiBaseVariables }),
    settings: { schema: openAISettingsSchema },
    unsupportedParams: () => preset.unsupportedParams ?? [],
    validate(deployment) {
      const problems: string[] = [];
      if (apiBaseFor(deployment, preset) === undefined) {
        problems.push(`api_base: ${name} deployments need api_base (the server's OpenAI-compatible /v1 URL)`);
      }
      if (!native && deployment.batchMode === 'native') {
        problems.push(`batch_mode: ${name} has no OpenAI-format batch API; use batch_mode: emulate`);
      }
      return problems;
    },
    createClient(deployment, settings) {
      const openAIConfig = openAIApiConfig(
        { ...deployment, apiBase: apiBaseFor(deployment, preset) },
        settings,
        { label: name, supportsFiles: native, supportsBatches: native },
      );
      const config = preset.apiConfig?.(openAIConfig, deployment) ?? openAIConfig;
      const ctx: CallContext = { config, deploymentId: deployment.id };
      const client = createOpenAIShapedClient(deployment, config);
      const wire = preset.wire === 'legacy-completions' ? legacyCompletionsClient(client, ctx) : client;
      const chat = rewritesChat(preset) ? withChatRewrites(wire, preset) : wire;
      const embedding = withEmbeddingsWire(chat, preset);
      return preset.rerank === undefined || preset.rerank === false ? embedding : withRerank(embedding, ctx, preset.rerank);
    },
  } satisfies Provider<OpenAISettings>);
}

/** One provider per preset, in the table's order. */
export const openaiCompatibleProviders: readonly Provider<OpenAISettings>[] = Object.freeze(
  Object.entries(OPENAI_COMPATIBLE_PRESETS).map(([name, preset]) => openaiCompatibleProvider(name, preset)),
);
