/**
 * `/v1/embeddings`, `/v1/responses` and the legacy `/v1/completions`, plus `executeEndpoint`,
 * which a batch uses to run one JSONL line against the same logic as the synchronous API.
 */
import { randomBase62, randomHex, nowSeconds } from '../common/ids.ts';
import { countTokens, embeddingVector, streamPieces, textOf, truncateToTokens, vectorToBase64 } from '../common/fake-model.ts';
import { badRequest, chatCompletion, checkModelAndMarker } from './chat.ts';
import type { InferenceContext, InferenceResult } from './chat.ts';
import { checkMetadata } from './metadata.ts';
import { imageGenerations, moderations } from './moderations-images.ts';

type Json = Record<string, unknown>;

export function embeddings(body: Json, ctx: InferenceContext): InferenceResult {
  if (typeof body.model !== 'string' || body.model === '') return badRequest('you must provide a model parameter');
  const input = body.input;
  if (input === undefined) return badRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
  const inputs: string[] = typeof input === 'string' ? [input] : Array.isArray(input) ? input.map((i) => (typeof i === 'string' ? i : JSON.stringify(i))) : [];
  if (inputs.length === 0 || inputs.some((s) => s === '')) {
    return badRequest("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
  }
  const refused = inputs.map((s) => checkModelAndMarker(body, ctx, s)).find((r) => r !== null);
  if (refused) return refused;
  const modelDimensions = /large/.test(body.model) ? 3072 : 1536;
  if (body.dimensions !== undefined && !(Number.isInteger(body.dimensions) && (body.dimensions as number) >= 1 && (body.dimensions as number) <= modelDimensions)) {
    return badRequest(`Invalid 'dimensions': expected an integer between 1 and ${modelDimensions}.`, 'dimensions', 'invalid_value');
  }
  const dimensions = (body.dimensions as number | undefined) ?? modelDimensions;
  const base64 = body.encoding_format === 'base64';
  const tokens = inputs.reduce((n, s) => n + countTokens(s), 0);
  return {
    status: 200,
    body: {
      object: 'list',
      data: inputs.map((s, index) => {
        const v = embeddingVector(s, dimensions);
        return { object: 'embedding', index, embedding: base64 ? vectorToBase64(v) : v };
      }),
      model: body.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  };
}

export function completions(body: Json, ctx: InferenceContext): InferenceResult {
  if (typeof body.model !== 'string' || body.model === '') return badRequest('you must provide a model parameter');
  const prompts = typeof body.prompt === 'string' ? [body.prompt] : Array.isArray(body.prompt) ? body.prompt.map(String) : null;
  if (!prompts) return badRequest("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
  const refused = prompts.map((p) => checkModelAndMarker(body, ctx, p)).find((r) => r !== null);
  if (refused) return refused;
  const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : 16;
  const choices = prompts.map((p, index) => {
    const { text, truncated } = truncateToTokens(p, maxTokens);
    return { text, index, logprobs: null, finish_reason: truncated ? 'length' : 'stop' };
  });
  const prompt = prompts.reduce((n, p) => n + countTokens(p), 0);
  const completion = choices.reduce((n, c) => n + countTokens(c.text), 0);
  return {
    status: 200,
    body: {
      id: `cmpl-${randomBase62(29)}`,
      object: 'text_completion',
      created: nowSeconds(),
      model: body.model,
      choices,
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    },
  };
}

/** Last user text of a Responses `input` (a string, or a list of message items). */
function responsesUserText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  const users = (input as Json[]).filter((i) => i && i.role === 'user');
  return users.length ? textOf(users[users.length - 1].content) : '';
}

/** A completed `Response` object (OpenAI API reference, "The response object"), minimal but complete. */
export function responses(body: Json, ctx: InferenceContext): InferenceResult {
  if (typeof body.model !== 'string' || body.model === '') return badRequest("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  const metadataError = checkMetadata(body.metadata);
  if (metadataError) return badRequest(metadataError.message, metadataError.param ?? null, metadataError.code ?? null);
  const userText = responsesUserText(body.input);
  const refused = checkModelAndMarker(body, ctx, userText);
  if (refused) return refused;
  const maxTokens = typeof body.max_output_tokens === 'number' ? body.max_output_tokens : undefined;
  const { text, truncated } = truncateToTokens(userText, maxTokens);
  const inputTokens = countTokens(userText) + countTokens(typeof body.instructions === 'string' ? body.instructions : '') + 4;
  const outputTokens = countTokens(text);
  return {
    status: 200,
    body: {
      id: `resp_${randomHex(48)}`,
      object: 'response',
      created_at: nowSeconds(),
      status: truncated ? 'incomplete' : 'completed',
      background: false,
      error: null,
      incomplete_details: truncated ? { reason: 'max_output_tokens' } : null,
      instructions: body.instructions ?? null,
      max_output_tokens: maxTokens ?? null,
      model: body.model,
      output: [
        {
          id: `msg_${randomHex(48)}`,
          type: 'message',
          status: truncated ? 'incomplete' : 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', annotations: [], logprobs: [], text }],
        },
      ],
      parallel_tool_calls: true,
      previous_response_id: body.previous_response_id ?? null,
      reasoning: { effort: null, summary: null },
      store: body.store ?? true,
      temperature: body.temperature ?? 1,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [],
      top_p: body.top_p ?? 1,
      truncation: 'disabled',
      usage: {
        input_tokens: inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: inputTokens + outputTokens,
      },
      user: null,
      metadata: body.metadata ?? {},
    },
  };
}

/** Responses streaming events (`response.created` ... `response.completed`), each with `sequence_number`. */
export function responseEvents(final: Json): Json[] {
  const item = (final.output as Json[])[0];
  const part = (item.content as Json[])[0];
  const text = String(part.text);
  const inProgress = { ...final, status: 'in_progress', output: [], usage: null };
  const events: Json[] = [
    { type: 'response.created', response: inProgress },
    { type: 'response.in_progress', response: inProgress },
    { type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', content: [] } },
    { type: 'response.content_part.added', item_id: item.id, output_index: 0, content_index: 0, part: { ...part, text: '' } },
  ];
  for (const delta of streamPieces(text)) {
    events.push({ type: 'response.output_text.delta', item_id: item.id, output_index: 0, content_index: 0, delta, logprobs: [] });
  }
  events.push(
    { type: 'response.output_text.done', item_id: item.id, output_index: 0, content_index: 0, text, logprobs: [] },
    { type: 'response.content_part.done', item_id: item.id, output_index: 0, content_index: 0, part },
    { type: 'response.output_item.done', output_index: 0, item },
    { type: final.status === 'completed' ? 'response.completed' : 'response.incomplete', response: final },
  );
  return events.map((e, i) => ({ ...e, sequence_number: i }));
}

/** The endpoints a batch line can target, by the endpoint path without `/v1`. */
export const BATCHABLE_ENDPOINTS = {
  '/chat/completions': chatCompletion,
  '/embeddings': embeddings,
  '/responses': responses,
  '/completions': completions,
  '/moderations': moderations,
  '/images/generations': imageGenerations,
} as const;

export type BatchableEndpoint = keyof typeof BATCHABLE_ENDPOINTS;

export function executeEndpoint(endpoint: BatchableEndpoint, body: Json, ctx: InferenceContext): InferenceResult {
  return BATCHABLE_ENDPOINTS[endpoint](body, ctx);
}

/** Token usage of one successful body, in the Batch `usage` vocabulary. */
export function usageOfBody(body: Json): { input: number; output: number; cached: number; reasoning: number } {
  const u = (body.usage ?? {}) as Json;
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  const input = num(u.input_tokens ?? u.prompt_tokens);
  const output = num(u.output_tokens ?? u.completion_tokens);
  const cached = num(((u.input_tokens_details ?? u.prompt_tokens_details ?? {}) as Json).cached_tokens);
  const reasoning = num(((u.output_tokens_details ?? u.completion_tokens_details ?? {}) as Json).reasoning_tokens);
  return { input, output, cached, reasoning };
}
