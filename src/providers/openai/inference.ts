/**
 * Chat completions, embeddings, Responses, legacy completions, moderations and image generation: passthrough of OpenAI's own request and answer
 * (streams are already OpenAI-framed SSE), with `model` replaced by the deployment's upstream model.
 * Rerank (self-hosted servers only, `openai-compatible/`) passes Cohere's request and answer the same way.
 */
import type { CallOptions, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { receivedTextWithModel } from '../../spec/received-json.ts';
import { billedSearchesOf } from '../../spec/rerank.ts';
import { type CallContext, type RawCall, callJson, callStream } from './call.ts';

/**
 * The body for the upstream: the client's received text when it is exactly what `json` would
 * serialise to (same model, nothing else changed), else `json` to serialise.
 */
function bodyOf(ctx: CallContext, body: Record<string, unknown>, unchanged: boolean, json: () => Record<string, unknown>): Pick<RawCall, 'json' | 'jsonText'> {
  const text = unchanged ? receivedTextWithModel(body, ctx.config.upstreamModel) : undefined;
  return text === undefined ? { json: json() } : { json: body, jsonText: text };
}

function withModel(ctx: CallContext, body: Record<string, unknown>): Record<string, unknown> {
  return { ...body, model: ctx.config.upstreamModel };
}

/**
 * `{ ...body, model }` without `stream` and `stream_options`, in one copy (the hot path used to
 * copy the body twice). Same keys in the same order: `model` keeps its place, else comes last.
 */
function withModelUnstreamed(ctx: CallContext, body: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(body)) {
    if (key === 'stream' || key === 'stream_options') continue;
    // As a spread would: an own "__proto__" key stays a key (assigning it would set the prototype).
    if (key === '__proto__') Object.defineProperty(copy, key, { value: body[key], enumerable: true, writable: true, configurable: true });
    else copy[key] = body[key];
  }
  copy.model = ctx.config.upstreamModel;
  return copy;
}

/** A chat-shaped call (chat, legacy completions): the body with the upstream model, streamed or not. */
function unstreamedCall(ctx: CallContext, operation: RawCall['operation'], what: string, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
  // Without `stream` and `stream_options` keys, `withModelUnstreamed` only sets `model`.
  const unchanged = !Object.hasOwn(body, 'stream') && !Object.hasOwn(body, 'stream_options');
  return callJson(ctx, { method: 'POST', operation, what, ...bodyOf(ctx, body, unchanged, () => withModelUnstreamed(ctx, body)) }, options);
}

function streamedCall(ctx: CallContext, operation: RawCall['operation'], what: string, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream> {
  // With `stream: true` already there, the spread below only sets `model`.
  return callStream(ctx, { method: 'POST', operation, what, ...bodyOf(ctx, body, body.stream === true, () => ({ ...withModel(ctx, body), stream: true })) }, options);
}

export function chatCompletions(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
  return unstreamedCall(ctx, { kind: 'chat' }, 'chat completion request', body, options);
}

export function chatCompletionsStream(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream> {
  return streamedCall(ctx, { kind: 'chat' }, 'chat completion stream', body, options);
}

export function embeddings(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
  return callJson(ctx, { method: 'POST', operation: { kind: 'embeddings' }, what: 'embeddings request', ...bodyOf(ctx, body, true, () => withModel(ctx, body)) }, options);
}

/** OpenAI's moderations, passed through as embeddings are. */
export function moderations(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
  return callJson(ctx, { method: 'POST', operation: { kind: 'moderations' }, what: 'moderation request', ...bodyOf(ctx, body, true, () => withModel(ctx, body)) }, options);
}

/** OpenAI's image generation (JSON answers: `stream` is refused before this, `spec/endpoints.ts`). */
export function imageGenerations(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
  return callJson(ctx, { method: 'POST', operation: { kind: 'imageGenerations' }, what: 'image generation request', ...bodyOf(ctx, body, true, () => withModel(ctx, body)) }, options);
}

export function responses(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
  const { stream: _stream, ...rest } = body;
  return callJson(ctx, { method: 'POST', operation: { kind: 'responses' }, what: 'responses request', json: withModel(ctx, rest) }, options);
}

export function responsesStream(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream> {
  return callStream(
    ctx,
    { method: 'POST', operation: { kind: 'responses' }, what: 'responses stream', json: { ...withModel(ctx, body), stream: true } },
    options,
  );
}

/** Legacy completions: passed through as chat is. */
export function completions(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
  return unstreamedCall(ctx, { kind: 'completions' }, 'completion request', body, options);
}

export function completionsStream(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream> {
  return streamedCall(ctx, { kind: 'completions' }, 'completion stream', body, options);
}

/**
 * Cohere's rerank on a self-hosted server (vLLM, Infinity): the request as the client sent it, the
 * answer as the server gave it (vLLM's carries `usage.total_tokens` and no search units: billed as
 * one search, as LiteLLM counts it).
 */
export async function rerank(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
  const answer = await callJson(ctx, { method: 'POST', operation: { kind: 'rerank' }, what: 'rerank request', ...bodyOf(ctx, body, true, () => withModel(ctx, body)) }, options);
  return { ...answer, billedQueries: billedSearchesOf(answer.body) };
}
