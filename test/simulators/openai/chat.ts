/**
 * `POST /v1/chat/completions` behaviour: the `chat.completion` object and, for `stream: true`,
 * the `chat.completion.chunk` sequence (OpenAI API reference, "The chat completion object" and
 * "The chat completion chunk object"). The model is the deterministic echo of `common/fake-model.ts`.
 */
import { randomBase62, nowSeconds } from '../common/ids.ts';
import { countTokens, requestedFailureStatus, streamPieces, textOf, toolArguments, truncateToTokens, TOOL_TRIGGER } from '../common/fake-model.ts';
import { defaultOpenAIFailureBody, openaiErrorBody } from './errors.ts';
import { checkMetadata } from './metadata.ts';
import type { SimRoute } from '../common/simulator-server.ts';

export interface InferenceResult {
  status: number;
  body: Record<string, unknown>;
}

export interface InferenceContext {
  /** `null` when the model (Azure: deployment) is served, otherwise the error to answer. */
  modelError(model: string): InferenceResult | null;
}

type Json = Record<string, unknown>;

interface PlannedChat {
  model: string;
  created: number;
  id: string;
  promptTokens: number;
  choices: Array<{ content: string | null; toolCall: { id: string; name: string; arguments: string } | null; finish: string }>;
  completionTokens: number;
}

export function badRequest(message: string, param: string | null = null, code: string | null = null): InferenceResult {
  return { status: 400, body: openaiErrorBody(400, { message, param, code }) as unknown as Json };
}

/** Checks common to every inference body; `null` when fine. */
export function checkModelAndMarker(body: Json, ctx: InferenceContext, userText: string): InferenceResult | null {
  const failStatus = requestedFailureStatus(userText);
  if (failStatus !== null) return { status: failStatus, body: defaultOpenAIFailureBody(failStatus) as unknown as Json };
  return ctx.modelError(String(body.model));
}

function planChat(body: Json, ctx: InferenceContext): PlannedChat | InferenceResult {
  if (typeof body.model !== 'string' || body.model === '') return badRequest('you must provide a model parameter');
  const messages = body.messages;
  if (messages === undefined) return badRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(messages)) return badRequest("Invalid type for 'messages': expected an array of objects, but got a string instead.", 'messages', 'invalid_type');
  if (messages.length === 0) {
    return badRequest("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array');
  }
  const metadataError = checkMetadata(body.metadata);
  if (metadataError) return badRequest(metadataError.message, metadataError.param ?? null, metadataError.code ?? null);
  const users = (messages as Json[]).filter((m) => m && m.role === 'user');
  const lastUser = users.length ? textOf(users[users.length - 1].content) : '';
  const refused = checkModelAndMarker(body, ctx, lastUser);
  if (refused) return refused;

  const promptTokens = (messages as Json[]).reduce((n, m) => n + countTokens(textOf(m?.content)) + 4, 0);
  const maxTokens = numberOr(body.max_completion_tokens, numberOr(body.max_tokens, undefined));
  const n = numberOr(body.n, 1) ?? 1;
  // As OpenAI: at most 128 choices (and this double builds every one of them in memory).
  if (!Number.isInteger(n) || n < 1 || n > 128) {
    return badRequest(`Invalid 'n': expected an integer between 1 and 128, but got ${n} instead.`, 'n', n > 128 ? 'integer_above_max_value' : 'invalid_value');
  }
  const tool = chosenTool(body, lastUser);
  const choices: PlannedChat['choices'] = [];
  let completionTokens = 0;
  for (let i = 0; i < n; i++) {
    if (tool) {
      const args = JSON.stringify(toolArguments(tool.parameters, lastUser));
      choices.push({ content: null, toolCall: { id: `call_${randomBase62(24)}`, name: tool.name, arguments: args }, finish: 'tool_calls' });
      completionTokens += countTokens(args);
    } else {
      const { text, truncated } = truncateToTokens(lastUser, maxTokens);
      choices.push({ content: text, toolCall: null, finish: truncated ? 'length' : 'stop' });
      completionTokens += countTokens(text);
    }
  }
  return { model: body.model, created: nowSeconds(), id: `chatcmpl-${randomBase62(29)}`, promptTokens, choices, completionTokens };
}

function chosenTool(body: Json, userText: string): { name: string; parameters: unknown } | null {
  if (!Array.isArray(body.tools) || body.tools.length === 0 || body.tool_choice === 'none') return null;
  const tools = (body.tools as Json[])
    .map((t) => (t?.function ?? {}) as Json)
    .filter((f) => typeof f.name === 'string')
    .map((f) => ({ name: f.name as string, parameters: f.parameters }));
  const choice = body.tool_choice as Json | string | undefined;
  if (choice && typeof choice === 'object') {
    const name = ((choice.function ?? {}) as Json).name;
    return tools.find((t) => t.name === name) ?? null;
  }
  if (choice === 'required' || TOOL_TRIGGER.test(userText)) return tools[0] ?? null;
  return null;
}

function numberOr<T>(v: unknown, fallback: T): number | T {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function usageOf(plan: PlannedChat): Json {
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: plan.completionTokens,
    total_tokens: plan.promptTokens + plan.completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

export function chatCompletion(body: Json, ctx: InferenceContext): InferenceResult {
  const plan = planChat(body, ctx);
  if ('status' in plan) return plan;
  return {
    status: 200,
    body: {
      id: plan.id,
      object: 'chat.completion',
      created: plan.created,
      model: plan.model,
      choices: plan.choices.map((c, index) => ({
        index,
        message: {
          role: 'assistant',
          content: c.content,
          refusal: null,
          annotations: [],
          ...(c.toolCall
            ? { tool_calls: [{ id: c.toolCall.id, type: 'function', function: { name: c.toolCall.name, arguments: c.toolCall.arguments } }] }
            : {}),
        },
        logprobs: null,
        finish_reason: c.finish,
      })),
      usage: usageOf(plan),
      service_tier: 'default',
      system_fingerprint: 'fp_simulator',
    },
  };
}

/**
 * The streamed form: a role chunk, several content (or tool-call argument) chunks, a finish chunk,
 * and with `stream_options.include_usage` a final chunk with empty `choices` and the usage
 * (every other chunk then carries `usage: null`). The caller appends `data: [DONE]`.
 */
export function chatCompletionChunks(body: Json, ctx: InferenceContext): InferenceResult | { status: 200; chunks: Json[] } {
  const plan = planChat(body, ctx);
  if ('status' in plan) return plan;
  const includeUsage = Boolean(((body.stream_options ?? {}) as Json).include_usage);
  const base = { id: plan.id, object: 'chat.completion.chunk', created: plan.created, model: plan.model, service_tier: 'default', system_fingerprint: 'fp_simulator' };
  const chunk = (index: number, delta: Json, finish: string | null): Json => ({
    ...base,
    choices: [{ index, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const chunks: Json[] = [];
  plan.choices.forEach((c, index) => {
    if (c.toolCall) {
      const tc = c.toolCall;
      chunks.push(chunk(index, { role: 'assistant', content: null, tool_calls: [{ index: 0, id: tc.id, type: 'function', function: { name: tc.name, arguments: '' } }], refusal: null }, null));
      for (const piece of streamPieces(tc.arguments)) chunks.push(chunk(index, { tool_calls: [{ index: 0, function: { arguments: piece } }] }, null));
    } else {
      chunks.push(chunk(index, { role: 'assistant', content: '', refusal: null }, null));
      for (const piece of streamPieces(c.content ?? '')) chunks.push(chunk(index, { content: piece }, null));
    }
    chunks.push(chunk(index, {}, c.finish));
  });
  if (includeUsage) chunks.push({ ...base, choices: [], usage: usageOf(plan) });
  return { status: 200, chunks };
}

/** `POST /v1/chat/completions` answered by the fake model, without streaming: the route OpenAI-compatible batch simulators share. */
export function chatCompletionsRoute(ctx: InferenceContext): SimRoute {
  return {
    method: 'POST',
    path: /^\/v1\/chat\/completions$/,
    handle: (req) => {
      const result = chatCompletion((req.json ?? {}) as Json, ctx);
      return { status: result.status, json: result.body };
    },
  };
}
