/**
 * The mock provider's client: canned chat completions (plain and streamed), embeddings,
 * Responses and audio (`mock-audio.ts`), built in process. No network; optional `mock_latency_ms` before each answer.
 */
import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidRequestError } from '../../spec/errors.ts';
import type { CallOptions, Deployment, ProviderClient, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { SSE_DONE, encodeSseEvent } from '../http/sse.ts';
import { transportError } from '../http/transport-errors.ts';
import {
  approximateTokens,
  chatPromptText,
  encodeEmbedding,
  lastUserText,
  mockAnswer,
  mockEmbedding,
  responsesInputText,
  streamPieces,
} from './mock-answers.ts';
import { mockSpeech, mockTranscription } from './mock-audio.ts';

const DEFAULT_EMBEDDING_DIMENSIONS = 1536;
/** OpenAI's limit on the items of one embeddings request. */
const MAX_EMBEDDING_INPUTS = 2048;

function randomId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

/** A non-negative number, also as a numeric string (values read through `os.environ/`). */
const nonNegativeNumber = z.preprocess((value) => (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value), z.number().nonnegative());

/** What a `mock/` deployment reads of its `litellm_params` (`Provider.settings`). */
export const mockSettingsSchema = z
  .object({
    /** The answer's text (see `mock-answers.ts`); absent: an echo of the prompt. */
    mock_response: z.unknown().optional(),
    mock_latency_ms: nonNegativeNumber.optional(),
    /** Also the largest `dimensions` a request may ask. */
    mock_embedding_dimensions: nonNegativeNumber.optional(),
  })
  .transform((params) => ({ mockResponse: params.mock_response, latencyMs: params.mock_latency_ms ?? 0, embeddingDimensions: Math.floor(params.mock_embedding_dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS) }));

export type MockSettings = z.output<typeof mockSettingsSchema>;


export function createMockClient(deployment: Deployment, settings: MockSettings): ProviderClient {
  const latencyMs = settings.latencyMs;
  const model = deployment.upstreamModel;
  const mockResponse = settings.mockResponse;

  async function delay(options: CallOptions | undefined): Promise<void> {
    if (options?.signal?.aborted) throw transportError(options.signal.reason, options.signal, 'mock request');
    if (latencyMs <= 0) return;
    try {
      await sleep(latencyMs, undefined, { signal: options?.signal });
    } catch (error) {
      throw transportError(error, options?.signal, 'mock request');
    }
  }

  function chatAnswer(body: Record<string, unknown>) {
    const content = mockAnswer(mockResponse, lastUserText(body));
    const promptTokens = approximateTokens(chatPromptText(body));
    const completionTokens = approximateTokens(content);
    return {
      content,
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    };
  }

  async function chatCompletions(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
    await delay(options);
    const { content, usage } = chatAnswer(body);
    const id = randomId('chatcmpl-mock');
    return {
      status: 200,
      upstreamRequestId: id,
      body: {
        id,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage,
        system_fingerprint: 'fp_portico_mock',
      },
    };
  }

  async function chatCompletionsStream(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream> {
    await delay(options);
    const { content, usage } = chatAnswer(body);
    const id = randomId('chatcmpl-mock');
    const created = Math.floor(Date.now() / 1000);
    // As OpenAI: usage only when asked for, then `usage: null` on every chunk and a last chunk with the totals.
    const streamOptions = body.stream_options as { include_usage?: unknown } | null | undefined;
    const includeUsage = streamOptions?.include_usage === true;
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_portico_mock',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    });
    async function* events(): AsyncGenerator<Uint8Array> {
      yield encodeSseEvent(chunk({ role: 'assistant', content: '' }, null));
      for (const piece of streamPieces(content)) yield encodeSseEvent(chunk({ content: piece }, null));
      yield encodeSseEvent(chunk({}, 'stop'));
      // The usage chunk OpenAI sends with `stream_options.include_usage`: choices empty.
      if (includeUsage) yield encodeSseEvent({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_portico_mock', choices: [], usage });
      yield SSE_DONE;
    }
    return { status: 200, body: events(), upstreamRequestId: id };
  }

  async function embeddings(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
    await delay(options);
    const input = body.input;
    const inputs: unknown[] = typeof input === 'string' ? [input] : Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number' ? input : [input];
    if (input === undefined || input === null || inputs.length === 0) {
      throw new InvalidRequestError("'input' is a required property", { param: 'input' });
    }
    if (inputs.length > MAX_EMBEDDING_INPUTS) {
      throw new InvalidRequestError(`'input' may hold at most ${MAX_EMBEDDING_INPUTS} items.`, { param: 'input', code: 'invalid_value' });
    }
    // The model's size is an upper bound, as on OpenAI: a client-chosen size would make the
    // vectors (computed here, in the gateway) as large as the client likes.
    const modelDimensions = settings.embeddingDimensions;
    if (body.dimensions !== undefined && body.dimensions !== null && !(Number.isInteger(body.dimensions) && (body.dimensions as number) >= 1 && (body.dimensions as number) <= modelDimensions)) {
      throw new InvalidRequestError(`'dimensions' must be an integer between 1 and ${modelDimensions} for this model.`, { param: 'dimensions', code: 'invalid_value' });
    }
    const dimensions = (body.dimensions as number | null | undefined) ?? modelDimensions;
    let promptTokens = 0;
    const data = inputs.map((item, index) => {
      promptTokens += approximateTokens(typeof item === 'string' ? item : JSON.stringify(item));
      return { object: 'embedding', index, embedding: encodeEmbedding(mockEmbedding(model, item, dimensions), body.encoding_format) };
    });
    return {
      status: 200,
      body: { object: 'list', data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } },
    };
  }

  function responseObject(body: Record<string, unknown>, status: 'in_progress' | 'completed') {
    const text = mockAnswer(mockResponse, responsesInputText(body));
    const inputTokens = approximateTokens(responsesInputText(body));
    const outputTokens = approximateTokens(text);
    const id = randomId('resp_mock');
    const messageId = randomId('msg_mock');
    const complete = status === 'completed';
    return {
      text,
      messageId,
      response: {
        id,
        object: 'response',
        created_at: Math.floor(Date.now() / 1000),
        status,
        error: null,
        incomplete_details: null,
        instructions: body.instructions ?? null,
        max_output_tokens: body.max_output_tokens ?? null,
        model,
        output: complete
          ? [{ type: 'message', id: messageId, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }]
          : [],
        parallel_tool_calls: true,
        previous_response_id: body.previous_response_id ?? null,
        temperature: body.temperature ?? 1,
        top_p: body.top_p ?? 1,
        tool_choice: 'auto',
        tools: [],
        text: { format: { type: 'text' } },
        truncation: 'disabled',
        metadata: body.metadata ?? {},
        usage: complete
          ? {
              input_tokens: inputTokens,
              input_tokens_details: { cached_tokens: 0 },
              output_tokens: outputTokens,
              output_tokens_details: { reasoning_tokens: 0 },
              total_tokens: inputTokens + outputTokens,
            }
          : null,
      },
    };
  }

  async function responses(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
    await delay(options);
    const { response } = responseObject(body, 'completed');
    return { status: 200, body: response, upstreamRequestId: response.id };
  }

  async function responsesStream(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream> {
    await delay(options);
    const started = responseObject(body, 'in_progress');
    const done = responseObject(body, 'completed');
    const response = { ...done.response, id: started.response.id, created_at: started.response.created_at };
    const messageId = done.messageId;
    async function* events(): AsyncGenerator<Uint8Array> {
      let sequence = 0;
      const event = (type: string, payload: Record<string, unknown>) => encodeSseEvent({ type, sequence_number: sequence++, ...payload }, type);
      yield event('response.created', { response: started.response });
      yield event('response.in_progress', { response: started.response });
      const item = { type: 'message', id: messageId, status: 'in_progress', role: 'assistant', content: [] };
      yield event('response.output_item.added', { output_index: 0, item });
      yield event('response.content_part.added', { item_id: messageId, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      for (const piece of streamPieces(done.text)) {
        yield event('response.output_text.delta', { item_id: messageId, output_index: 0, content_index: 0, delta: piece, logprobs: [] });
      }
      yield event('response.output_text.done', { item_id: messageId, output_index: 0, content_index: 0, text: done.text, logprobs: [] });
      yield event('response.content_part.done', { item_id: messageId, output_index: 0, content_index: 0, part: { type: 'output_text', text: done.text, annotations: [] } });
      yield event('response.output_item.done', { output_index: 0, item: response.output[0] });
      yield event('response.completed', { response });
    }
    return { status: 200, body: events(), upstreamRequestId: started.response.id };
  }

  return Object.freeze({
    deployment,
    batchLineModel: model,
    chatCompletions,
    chatCompletionsStream,
    embeddings,
    responses,
    responsesStream,
    audioSpeech: async (body, options) => {
      await delay(options);
      return mockSpeech(body);
    },
    audioTranscriptions: async (upload, options) => {
      await delay(options);
      return mockTranscription(upload, mockResponse, 'transcribe');
    },
    audioTranslations: async (upload, options) => {
      await delay(options);
      return mockTranscription(upload, mockResponse, 'translate');
    },
  } satisfies ProviderClient);
}
