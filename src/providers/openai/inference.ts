/**
 * Chat completions, embeddings and Responses: passthrough of OpenAI's own request and answer
 * (streams are already OpenAI-framed SSE), with `model` replaced by the deployment's upstream model.
 */
import type { CallOptions, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { type CallContext, callJson, callStream } from './call.ts';

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

export function chatCompletions(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
  return callJson(ctx, { method: 'POST', operation: { kind: 'chat' }, what: 'chat completion request', json: withModelUnstreamed(ctx, body) }, options);
}

export function chatCompletionsStream(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream> {
  return callStream(
    ctx,
    { method: 'POST', operation: { kind: 'chat' }, what: 'chat completion stream', json: { ...withModel(ctx, body), stream: true } },
    options,
  );
}

export function embeddings(ctx: CallContext, body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
  return callJson(ctx, { method: 'POST', operation: { kind: 'embeddings' }, what: 'embeddings request', json: withModel(ctx, body) }, options);
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
