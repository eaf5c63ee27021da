/**
 * Streamed chat completions in the response cache: a stream is assembled into the
 * `chat.completion` it amounts to (the same answer a request without `stream` gets, so both share
 * one entry), and a cached completion is played back as a stream (OpenAI's chunk shapes: the
 * message in one delta per choice, then each choice's `finish_reason`, then `usage` when the request
 * asked for it with `stream_options.include_usage`, then `[DONE]`).
 */
import type { StreamEventReader } from '../spec/stream-event-tap.ts';

type Json = Record<string, unknown>;

interface ToolCallParts {
  id?: string;
  type: string;
  name: string;
  arguments: string;
}

interface ChoiceParts {
  role?: string;
  content?: string;
  refusal?: string;
  toolCalls: ToolCallParts[];
  finishReason?: string | null;
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A reader of a chat completion stream's events that calls `onComplete` with the completion's
 * JSON text once the stream ended in full with every choice finished; never for a stream cut short.
 */
export function chatCompletionAssembler(onComplete: (text: string) => void): StreamEventReader {
  let head: Json | undefined;
  let usage: unknown;
  const choices = new Map<number, ChoiceParts>();
  let broken = false;
  return {
    event(_data, json) {
      const chunk = json();
      if (!isObject(chunk) || chunk.object !== 'chat.completion.chunk') {
        broken = true;
        return;
      }
      head ??= { id: chunk.id, created: chunk.created, model: chunk.model, ...(chunk.system_fingerprint != null && { system_fingerprint: chunk.system_fingerprint }) };
      if (chunk.usage != null) usage = chunk.usage;
      for (const choice of Array.isArray(chunk.choices) ? chunk.choices : []) {
        if (!isObject(choice) || typeof choice.index !== 'number') continue;
        const parts = choices.get(choice.index) ?? { toolCalls: [] };
        choices.set(choice.index, parts);
        const delta = isObject(choice.delta) ? choice.delta : {};
        if (typeof delta.role === 'string') parts.role = delta.role;
        if (typeof delta.content === 'string') parts.content = (parts.content ?? '') + delta.content;
        if (typeof delta.refusal === 'string') parts.refusal = (parts.refusal ?? '') + delta.refusal;
        for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
          if (!isObject(call) || typeof call.index !== 'number') continue;
          const tool = (parts.toolCalls[call.index] ??= { type: 'function', name: '', arguments: '' });
          if (typeof call.id === 'string') tool.id = call.id;
          if (typeof call.type === 'string') tool.type = call.type;
          const fn = isObject(call.function) ? call.function : {};
          if (typeof fn.name === 'string') tool.name += fn.name;
          if (typeof fn.arguments === 'string') tool.arguments += fn.arguments;
        }
        if (choice.finish_reason != null) parts.finishReason = choice.finish_reason as string;
      }
    },
    end(completed) {
      if (!completed || broken || head === undefined || choices.size === 0) return;
      if ([...choices.values()].some((choice) => choice.finishReason == null)) return;
      const completion = {
        ...head,
        object: 'chat.completion',
        choices: [...choices.entries()]
          .sort(([a], [b]) => a - b)
          .map(([index, parts]) => ({
            index,
            message: {
              role: parts.role ?? 'assistant',
              content: parts.content ?? null,
              ...(parts.refusal !== undefined && { refusal: parts.refusal }),
              ...(parts.toolCalls.length > 0 && {
                tool_calls: parts.toolCalls.map((tool) => ({ ...(tool.id !== undefined && { id: tool.id }), type: tool.type, function: { name: tool.name, arguments: tool.arguments } })),
              }),
            },
            logprobs: null,
            finish_reason: parts.finishReason,
          })),
        ...(usage !== undefined && { usage }),
      };
      onComplete(JSON.stringify(completion));
    },
  };
}

function sse(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** A cached `chat.completion` (its JSON text) as the server-sent events of its stream; undefined when it is not one. */
export function chatCompletionAsStream(text: string, includeUsage: boolean): string | undefined {
  let completion: unknown;
  try {
    completion = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(completion) || completion.object !== 'chat.completion' || !Array.isArray(completion.choices)) return undefined;
  const head = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model, ...(completion.system_fingerprint != null && { system_fingerprint: completion.system_fingerprint }) };
  const choices = completion.choices.filter(isObject);
  let events = sse({
    ...head,
    choices: choices.map((choice) => {
      const message = isObject(choice.message) ? choice.message : {};
      const toolCalls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isObject) : [];
      return {
        index: choice.index,
        delta: {
          role: message.role ?? 'assistant',
          content: message.content ?? null,
          ...(message.refusal != null && { refusal: message.refusal }),
          ...(toolCalls.length > 0 && { tool_calls: toolCalls.map((call, index) => ({ index, ...call })) }),
        },
        logprobs: null,
        finish_reason: null,
      };
    }),
  });
  events += sse({ ...head, choices: choices.map((choice) => ({ index: choice.index, delta: {}, logprobs: null, finish_reason: choice.finish_reason ?? 'stop' })) });
  if (includeUsage && completion.usage != null) events += sse({ ...head, choices: [], usage: completion.usage });
  return `${events}data: [DONE]\n\n`;
}
