/**
 * HTTP answers for the inference endpoints (chat, embeddings, responses, completions), streaming
 * included. Azure reuses them with an `InferenceDecoration` that adds its content-filter fields.
 */
import { sseFrame } from '../common/simulator-server.ts';
import type { SimReply, SimRequest } from '../common/simulator-server.ts';
import { chatCompletion, chatCompletionChunks } from './chat.ts';
import type { InferenceContext, InferenceResult } from './chat.ts';
import { openaiErrorBody } from './errors.ts';
import { streamPieces } from '../common/fake-model.ts';
import { completions, embeddings, responseEvents, responses } from './inference.ts';
import { imageGenerations, moderations } from './moderations-images.ts';

type Json = Record<string, unknown>;

export interface InferenceDecoration {
  completion(body: Json): Json;
  /** Chunks as they will be sent (may add or change chunks). */
  chunks(chunks: Json[]): Json[];
}

const NO_DECORATION: InferenceDecoration = { completion: (b) => b, chunks: (c) => c };

export const JSON_PARSE_ERROR =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)";

/** The JSON object body, or the 400 the API answers when there is none. */
export function jsonBody(req: SimRequest): Json | SimReply {
  if (req.jsonError || typeof req.json !== 'object' || req.json === null || Array.isArray(req.json)) {
    return { status: 400, json: openaiErrorBody(400, { message: JSON_PARSE_ERROR }) };
  }
  return req.json as Json;
}

export function isReply(v: Json | SimReply): v is SimReply {
  return typeof (v as SimReply).status === 'number' && ('json' in v || 'raw' in v || 'sse' in v);
}

function asReply(r: InferenceResult): SimReply {
  return { status: r.status, json: r.body };
}

/** Body overrides let Azure put the deployment name in `model`. */
export function chatReply(req: SimRequest, ctx: InferenceContext, decoration = NO_DECORATION, override: Json = {}): SimReply {
  const parsed = jsonBody(req);
  if (isReply(parsed)) return parsed;
  const body = { ...parsed, ...override };
  if (body.stream !== true) {
    const r = chatCompletion(body, ctx);
    return r.status === 200 ? { status: 200, json: decoration.completion(r.body) } : asReply(r);
  }
  const r = chatCompletionChunks(body, ctx);
  if (!('chunks' in r)) return asReply(r);
  const frames = decoration.chunks(r.chunks).map((c) => sseFrame(JSON.stringify(c)));
  frames.push(sseFrame('[DONE]'));
  return { status: 200, sse: frames };
}

export function embeddingsReply(req: SimRequest, ctx: InferenceContext, override: Json = {}): SimReply {
  const parsed = jsonBody(req);
  if (isReply(parsed)) return parsed;
  return asReply(embeddings({ ...parsed, ...override }, ctx));
}

export function moderationsReply(req: SimRequest, ctx: InferenceContext): SimReply {
  const parsed = jsonBody(req);
  if (isReply(parsed)) return parsed;
  return asReply(moderations(parsed, ctx));
}

/** Body overrides let Azure put the deployment name in `model`. */
export function imageGenerationsReply(req: SimRequest, ctx: InferenceContext, override: Json = {}): SimReply {
  const parsed = jsonBody(req);
  if (isReply(parsed)) return parsed;
  return asReply(imageGenerations({ ...parsed, ...override }, ctx));
}

export function completionsReply(req: SimRequest, ctx: InferenceContext, override: Json = {}): SimReply {
  const parsed = jsonBody(req);
  if (isReply(parsed)) return parsed;
  const r = completions({ ...parsed, ...override }, ctx);
  if (r.status !== 200 || parsed.stream !== true) return asReply(r);
  // Streamed (API reference, "Create completion", `stream`): `text_completion` objects whose
  // choices carry the text in pieces, the last piece with the finish reason, then `[DONE]`;
  // with `stream_options.include_usage`, a last chunk with empty choices and the usage.
  const { choices, usage, ...head } = r.body as { choices: Array<{ text: string; index: number; finish_reason: string }>; usage: Json } & Json;
  const frames: string[] = [];
  for (const choice of choices) {
    const pieces = streamPieces(choice.text);
    pieces.forEach((text, i) => {
      const last = i === pieces.length - 1;
      frames.push(sseFrame(JSON.stringify({ ...head, choices: [{ text, index: choice.index, logprobs: null, finish_reason: last ? choice.finish_reason : null }] })));
    });
  }
  const options = parsed.stream_options as { include_usage?: unknown } | undefined;
  if (options?.include_usage === true) frames.push(sseFrame(JSON.stringify({ ...head, choices: [], usage })));
  frames.push(sseFrame('[DONE]'));
  return { status: 200, sse: frames };
}

export function responsesReply(req: SimRequest, ctx: InferenceContext): SimReply {
  const parsed = jsonBody(req);
  if (isReply(parsed)) return parsed;
  const r = responses(parsed, ctx);
  if (r.status !== 200 || parsed.stream !== true) return asReply(r);
  return { status: 200, sse: responseEvents(r.body).map((e) => sseFrame(JSON.stringify(e), String(e.type))) };
}

/** `GET /models`: the configured models, or a default set when any model is accepted. */
export function modelsReply(models: readonly string[], ownedBy: string): SimReply {
  return {
    status: 200,
    json: { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: ownedBy })) },
  };
}
