/**
 * Chat requests on OpenAI's legacy completions API (`/v1/completions`, LiteLLM's
 * `text-completion-openai/`): the messages become one `prompt`, the `text_completion` answer
 * (and its stream chunks) become a `chat.completion` (and `chat.completion.chunk`s).
 */
import { encodeSseEvent, SSE_DONE, sseEvents } from '../http/sse.ts';

/** Parameters of chat that `/completions` does not take. */
const CHAT_ONLY_KEYS: ReadonlySet<string> = new Set(['messages', 'tools', 'tool_choice', 'parallel_tool_calls', 'response_format', 'stream_options', 'modalities', 'audio']);

function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part !== null && typeof part === 'object' && (part as { type?: unknown }).type === 'text' ? String((part as { text?: unknown }).text ?? '') : ''))
    .join('');
}

/** The messages' texts, one per line, as the prompt. */
export function promptOfMessages(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  return messages.map((message) => textOfContent((message as { content?: unknown } | null)?.content)).join('\n');
}

export function completionRequestOf(chatBody: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(chatBody)) if (!CHAT_ONLY_KEYS.has(key)) body[key] = value;
  // `max_completion_tokens` is chat's newer name for `max_tokens`.
  if (body.max_completion_tokens !== undefined) {
    body.max_tokens ??= body.max_completion_tokens;
    delete body.max_completion_tokens;
  }
  body.prompt = promptOfMessages(chatBody.messages);
  return body;
}

interface CompletionChoice {
  text?: unknown;
  index?: unknown;
  finish_reason?: unknown;
  logprobs?: unknown;
}

/** A completion's (or chunk's) choices as chat needs them: an index (else its place), a text (else empty), a finish reason (else null). */
function choicesOf(body: unknown): Array<{ index: number; text: string; finish_reason: unknown }> {
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return [];
  return (choices as CompletionChoice[]).map((choice, position) => ({
    index: typeof choice.index === 'number' ? choice.index : position,
    text: typeof choice.text === 'string' ? choice.text : '',
    finish_reason: choice.finish_reason ?? null,
  }));
}

export function chatCompletionOf(completion: unknown): Record<string, unknown> {
  const source = (completion ?? {}) as Record<string, unknown>;
  return {
    id: source.id,
    object: 'chat.completion',
    created: source.created,
    model: source.model,
    choices: choicesOf(completion).map((choice) => ({
      index: choice.index,
      message: { role: 'assistant', content: choice.text },
      logprobs: null,
      finish_reason: choice.finish_reason,
    })),
    ...(source.usage !== undefined && { usage: source.usage }),
    ...(source.system_fingerprint !== undefined && { system_fingerprint: source.system_fingerprint }),
  };
}

function chatChunkOf(chunk: Record<string, unknown>): Record<string, unknown> {
  return {
    id: chunk.id,
    object: 'chat.completion.chunk',
    created: chunk.created,
    model: chunk.model,
    choices: choicesOf(chunk).map((choice) => ({ index: choice.index, delta: { content: choice.text }, finish_reason: choice.finish_reason })),
    ...(chunk.usage !== undefined && { usage: chunk.usage }),
  };
}

/** A `/completions` event stream as chat chunk events, ending with `[DONE]`. */
export async function* chatStreamOf(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const event of sseEvents(source)) {
    if (event.data === '[DONE]') break;
    let chunk: unknown;
    try {
      chunk = JSON.parse(event.data);
    } catch {
      continue;
    }
    if (chunk !== null && typeof chunk === 'object') yield encodeSseEvent(chatChunkOf(chunk as Record<string, unknown>));
  }
  yield SSE_DONE;
}
